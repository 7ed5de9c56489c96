"""Engine, sessions and units of work.

SQLite is set up for a web server: WAL, foreign keys, a busy timeout, and write transactions that
take the write lock up front (`BEGIN IMMEDIATE`), because pysqlite's default deferred transactions
let two writers read the same state and then one of them fail or, worse, both act on it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine

from app.core.config import Settings

T = TypeVar("T")

logger = logging.getLogger(__name__)

_BEGIN_OPTION = "openbank_sqlite_begin"


def create_db_engine(settings: Settings) -> Engine:
    url = settings.database_url
    if settings.is_sqlite:
        connect_args: dict[str, Any] = {
            "check_same_thread": False,
            "timeout": settings.sqlite_busy_timeout_ms / 1000,
        }
        in_memory = url in ("sqlite://", "sqlite:///:memory:")
        engine = create_engine(
            url,
            connect_args=connect_args,
            poolclass=StaticPool if in_memory else None,
        )
        _configure_sqlite(engine, settings.sqlite_busy_timeout_ms, wal=not in_memory)
        return engine
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )


def _configure_sqlite(engine: Engine, busy_timeout_ms: int, *, wal: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if wal:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


def init_schema(engine: Engine) -> None:
    import app.models  # noqa: F401  (registers every table on SQLModel.metadata)

    SQLModel.metadata.create_all(engine)


def new_session(engine: Engine) -> Session:
    return Session(engine, expire_on_commit=False)


def begin_write(session: Session) -> None:
    """Start the session's next transaction as a write transaction.

    A read transaction already open (the current user was loaded, say) is ended first: on SQLite
    the write lock must be taken before the unit of work reads what it will change.
    """
    if session.in_transaction():
        session.commit()
    session.connection(execution_options={_BEGIN_OPTION: "IMMEDIATE"})


@contextmanager
def write_transaction(session: Session) -> Iterator[Session]:
    """One unit of work: all of it is committed once at the end, or none of it."""
    begin_write(session)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


# SQLSTATEs of a transaction PostgreSQL aborted so that others stay consistent: running the whole
# unit of work again is safe. (On SQLite, BEGIN IMMEDIATE makes them not happen.)
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})  # serialization_failure, deadlock_detected


def is_retryable(exc: DBAPIError) -> bool:
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return code in RETRYABLE_SQLSTATES


def run_in_write_transaction(
    session: Session, work: Callable[[Session], T], *, retries: int = 3
) -> T:
    """Run `work` as one unit of work; again (at most `retries` more times) when the database
    aborted it for a serialization failure or a deadlock. `work` must only touch the database,
    since a retried attempt starts from scratch."""
    attempt = 0
    while True:
        try:
            with write_transaction(session):
                return work(session)
        except DBAPIError as exc:
            if attempt >= retries or not is_retryable(exc):
                raise
            attempt += 1
            logger.info("unit of work aborted by the database (%s), retry %d", exc.orig, attempt)
