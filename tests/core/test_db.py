import sqlite3
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
    new_session,
    run_in_write_transaction,
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
