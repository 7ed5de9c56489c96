import logging
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, select

from app.core.config import Settings
from app.core.db import (
    _ensure_wal,
    begin_write,
    create_db_engine,
    create_private_file,
    new_session,
    run_in_write_transaction,
    sqlite_file,
    write_transaction,
)
from app.core.migrations import upgrade_to_head
from app.main import create_app
from app.models.country import AllowedCountry
from tests.utils.auth import register_customer


def pragma(engine: Engine, name: str) -> object:
    with engine.connect() as connection:
        return connection.exec_driver_sql(f"PRAGMA {name}").scalar()


@pytest.fixture
def sqlite_settings(settings: Settings, tmp_path: Path) -> Settings:
    """SQLite file settings, even when the suite runs against a server database."""
    return settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'unit.db'}"})


@pytest.fixture
def file_engine(sqlite_settings: Settings) -> Iterator[Engine]:
    engine = create_db_engine(sqlite_settings)
    upgrade_to_head(engine)
    yield engine
    engine.dispose()


def test_file_database_runs_in_wal_mode_with_foreign_keys(file_engine: Engine) -> None:
    assert pragma(file_engine, "journal_mode") == "wal"
    assert pragma(file_engine, "foreign_keys") == 1
    assert pragma(file_engine, "busy_timeout") == 5000
    assert pragma(file_engine, "synchronous") == 1  # NORMAL


def test_busy_timeout_is_a_setting(sqlite_settings: Settings) -> None:
    engine = create_db_engine(sqlite_settings.model_copy(update={"sqlite_busy_timeout_ms": 1234}))
    assert pragma(engine, "busy_timeout") == 1234
    engine.dispose()


def test_in_memory_database_is_one_shared_connection(settings: Settings) -> None:
    engine = create_db_engine(settings.model_copy(update={"database_url": "sqlite://"}))
    assert isinstance(engine.pool, StaticPool)
    assert pragma(engine, "foreign_keys") == 1
    assert pragma(engine, "journal_mode") == "memory"
    engine.dispose()


def test_whole_app_works_on_an_in_memory_database(settings: Settings) -> None:
    application = create_app(settings.model_copy(update={"database_url": "sqlite:///:memory:"}))
    with TestClient(application) as client:
        customer = register_customer(client, "memory.user")
        overview = client.get("/accounts/overview", headers=customer.headers)
        assert overview.status_code == 200
        assert [a["iban"] for a in overview.json()["accounts"]] == [customer.iban]


def test_write_transaction_commits_once_at_the_end(file_engine: Engine) -> None:
    with new_session(file_engine) as session, write_transaction(session):
        session.add(AllowedCountry(iso_code="FR", name="France"))
        session.add(AllowedCountry(iso_code="IT", name="Italy"))
    with new_session(file_engine) as session:
        codes = session.exec(select(AllowedCountry.iso_code)).all()
    assert sorted(codes) == ["FR", "IT"]


def add_france_twice(session: Session) -> None:
    with write_transaction(session):
        session.add(AllowedCountry(iso_code="FR", name="France"))
        session.flush()
        session.add(AllowedCountry(iso_code="FR", name="France again"))
        session.flush()


def add_france_then_fail(session: Session) -> None:
    with write_transaction(session):
        session.add(AllowedCountry(iso_code="FR", name="France"))
        session.flush()
        raise RuntimeError("changed my mind")


def test_write_transaction_rolls_back_everything_on_error(file_engine: Engine) -> None:
    with new_session(file_engine) as session:
        with pytest.raises(IntegrityError):
            add_france_twice(session)
        assert not session.in_transaction()
    with new_session(file_engine) as session:
        assert session.exec(select(AllowedCountry)).all() == []


def test_write_transaction_rolls_back_on_any_exception(file_engine: Engine) -> None:
    with new_session(file_engine) as session, pytest.raises(RuntimeError, match="changed my mind"):
        add_france_then_fail(session)
    with new_session(file_engine) as session:
        assert session.exec(select(AllowedCountry)).all() == []


def test_run_in_write_transaction_returns_the_work_result(file_engine: Engine) -> None:
    def work(session: Session) -> str:
        session.add(AllowedCountry(iso_code="ES", name="Spain"))
        return "done"

    with new_session(file_engine) as session:
        assert run_in_write_transaction(session, work) == "done"
    with new_session(file_engine) as session:
        assert session.get(AllowedCountry, "ES") is not None


def test_begin_write_ends_an_open_read_and_takes_the_write_lock(file_engine: Engine) -> None:
    with new_session(file_engine) as session:
        session.exec(select(AllowedCountry)).all()  # a read transaction is now open
        assert session.in_transaction()
        begin_write(session)
        # The write lock is held: another connection cannot start a write transaction.
        with file_engine.connect() as other:
            other.exec_driver_sql("PRAGMA busy_timeout=0")
            with pytest.raises(OperationalError, match="database is locked"):
                other.exec_driver_sql("INSERT INTO allowed_country VALUES ('XK', 'Kosovo')")
        session.rollback()
    # Once the lock is released the same write goes through.
    with file_engine.begin() as other:
        other.exec_driver_sql("INSERT INTO allowed_country VALUES ('XK', 'Kosovo')")


def test_upgrade_to_head_is_idempotent(file_engine: Engine) -> None:
    upgrade_to_head(file_engine)
    with file_engine.connect() as connection:
        tables = set(
            connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))
            .scalars()
            .all()
        )
    assert {
        "customer",
        "user",
        "account",
        "refresh_token",
        "allowed_country",
        "currency",
        "institution",
    } <= tables


class _LockedThenFree:
    """A cursor whose journal-mode switch is refused as locked `failures` times."""

    def __init__(self, failures: int, message: str = "database is locked") -> None:
        self.failures = failures
        self.message = message
        self.statements: list[str] = []
        self.mode = "delete"

    def execute(self, statement: str) -> "_LockedThenFree":
        self.statements.append(statement)
        if statement == "PRAGMA journal_mode=WAL":
            if self.failures:
                self.failures -= 1
                raise sqlite3.OperationalError(self.message)
            self.mode = "wal"
        return self

    def fetchone(self) -> tuple[str]:
        return (self.mode,)


def test_wal_switch_waits_while_another_connection_holds_the_lock() -> None:
    cursor = _LockedThenFree(failures=3)
    _ensure_wal(cursor, busy_timeout_ms=5000)
    assert cursor.mode == "wal"
    assert cursor.statements.count("PRAGMA journal_mode=WAL") == 4


def test_wal_switch_is_skipped_when_the_file_is_already_wal() -> None:
    cursor = _LockedThenFree(failures=0)
    cursor.mode = "wal"
    _ensure_wal(cursor, busy_timeout_ms=5000)
    assert cursor.statements == ["PRAGMA journal_mode"]


def test_wal_switch_gives_up_after_the_busy_timeout_and_on_other_errors() -> None:
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        _ensure_wal(_LockedThenFree(failures=10**6), busy_timeout_ms=0)
    with pytest.raises(sqlite3.OperationalError, match="disk I/O"):
        _ensure_wal(_LockedThenFree(failures=1, message="disk I/O error"), busy_timeout_ms=5000)


# File modes


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The common umask 022, under which SQLite alone would create files anyone can read."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("open_umask")
def test_a_new_database_file_and_its_wal_and_shm_are_private(
    settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "private.db"
    database_url = f"sqlite:///{path}"
    with TestClient(create_app(settings.model_copy(update={"database_url": database_url}))) as c:
        register_customer(c, username="private")  # writes: the -wal and -shm files exist now
        files = {p.name: mode_of(p) for p in tmp_path.iterdir() if p.name.startswith("private")}
    assert files == {"private.db": 0o600, "private.db-wal": 0o600, "private.db-shm": 0o600}


@pytest.mark.usefixtures("open_umask")
def test_an_existing_database_file_keeps_its_mode_with_a_warning(
    sqlite_settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "unit.db"
    sqlite3.connect(path).close()  # made by someone else, readable by all
    path.chmod(0o644)
    engine = create_db_engine(sqlite_settings)
    try:
        with caplog.at_level(logging.WARNING, logger="app.core.db"):
            upgrade_to_head(engine)
            with engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
    finally:
        engine.dispose()
    assert mode_of(path) == 0o644  # the operator's choice is not changed behind their back
    warnings = [r.getMessage() for r in caplog.records if "can be read by other" in r.message]
    assert warnings == [f"the database file {path} can be read by other users (mode 644): "
                        "chmod 600 it (and its -wal and -shm files)"]  # fmt: skip


def test_a_private_existing_file_is_not_warned_about(
    sqlite_settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = create_db_engine(sqlite_settings)
    try:
        with caplog.at_level(logging.WARNING, logger="app.core.db"):
            upgrade_to_head(engine)
            engine.dispose()
            upgrade_to_head(engine)  # a new connection to the file made private above
    finally:
        engine.dispose()
    assert mode_of(tmp_path / "unit.db") == 0o600
    assert "can be read by other" not in caplog.text


def test_create_private_file_leaves_what_exists(tmp_path: Path) -> None:
    path = tmp_path / "bank.db"
    assert create_private_file(path) is True
    path.write_bytes(b"kept")
    assert create_private_file(path) is False
    assert path.read_bytes() == b"kept"
    assert create_private_file(tmp_path / "no-such-directory" / "bank.db") is False


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///./openbank.db", Path("openbank.db")),
        ("sqlite:////var/lib/bank.db", Path("/var/lib/bank.db")),
        ("sqlite://", None),
        ("sqlite:///:memory:", None),
        ("sqlite:///file:bank.db?mode=ro&uri=true", None),
        ("sqlite:///bank.db?uri=true", None),  # a URI filename: SQLite opens what it names
    ],
)
def test_sqlite_file_of_a_url(url: str, expected: Path | None) -> None:
    assert sqlite_file(url) == expected
