from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from app.core.config import Settings
from app.core.db import create_db_engine, new_session
from app.services import health


def test_database_ok_when_reachable(session: Session) -> None:
    assert health.database_ok(session=session) is True


def test_database_not_ok_when_unreachable(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite:///{tmp_path / 'missing-dir' / 'db.sqlite'}"
    engine = create_db_engine(settings.model_copy(update={"database_url": url}))
    with new_session(engine) as session:
        assert health.database_ok(session=session) is False
    assert "database unreachable (OperationalError)" in caplog.text
    engine.dispose()


def test_status_names_the_service_and_the_database_state(
    session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok = health.status(session=session, settings=settings, live_sandboxes=lambda: 3)
    assert ok.model_dump() == {
        "status": "ok",
        "service": "openbank-api",
        "version": "0.1.0",
        "database": "connected",
        "sandboxes": 3,
    }
    monkeypatch.setattr(health, "database_ok", lambda **_: False)
    down = health.status(session=session, settings=settings, live_sandboxes=lambda: 3)
    assert (down.status, down.database, down.sandboxes) == ("unavailable", "unreachable", None)


def test_an_unreadable_sandbox_registry_leaves_the_count_out(
    session: Session, settings: Settings
) -> None:
    def unreadable() -> int:
        raise OperationalError("SELECT count(*) FROM sandbox", {}, Exception("gone"))

    result = health.status(session=session, settings=settings, live_sandboxes=unreadable)
    assert (result.status, result.database, result.sandboxes) == ("ok", "connected", None)
