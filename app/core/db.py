"""Engine, sessions, units of work and retries.

SQLite is set up for a web server: WAL, foreign keys, a busy timeout, and write transactions that
take the write lock up front (`BEGIN IMMEDIATE`), because pysqlite's default deferred transactions
let two writers read the same state and then one of them fail or, worse, both act on it.

PostgreSQL runs at READ COMMITTED: a unit of work that reads a row to decide how to change it
locks that row (`SELECT ... FOR UPDATE`, which SQLite ignores: its write lock is already held),
and a transaction the server aborts as a serialization failure or deadlock can be run again with
`run_with_retries`.
"""

from __future__ import annotations

import functools
import logging
import operator
import os
import random
import sqlite3
import stat
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from sqlalchemy import DateTime, Table, event, func, insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect, Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql.schema import ScalarElementColumnDefault
from sqlmodel import Session, SQLModel, create_engine

from app.core.config import Settings

T = TypeVar("T")

logger = logging.getLogger(__name__)

# Execution option read by the SQLite "begin" listener: DEFERRED (default), IMMEDIATE, EXCLUSIVE.
SQLITE_BEGIN_OPTION = "openbank_sqlite_begin"

# SQLSTATEs after which the whole transaction may simply be run again (PostgreSQL).
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})  # serialization_failure, deadlock_detected

PRIVATE_FILE_MODE = 0o600


def create_db_engine(settings: Settings) -> Engine:
    url = settings.database_url
    if settings.is_sqlite:
        connect_args: dict[str, Any] = {
            "check_same_thread": False,
            "timeout": settings.sqlite_busy_timeout_ms / 1000,
        }
        in_memory = url in ("sqlite://", "sqlite:///:memory:")
        pool: dict[str, Any] = {"poolclass": StaticPool} if in_memory else _pool_options(settings)
        engine = create_engine(url, connect_args=connect_args, **pool)
        _configure_sqlite(engine, settings.sqlite_busy_timeout_ms, wal=not in_memory)
        path = sqlite_file(url)
        if path is not None:
            _keep_file_private(engine, path)
        return engine
    return create_engine(url, pool_pre_ping=True, **_pool_options(settings))


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL; None in memory or for a `file:` URI."""
    parsed = make_url(url)
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    if str(parsed.query.get("uri", "")).lower() in ("true", "1"):
        return None
    return Path(database)


def create_private_file(path: Path) -> bool:
    """Create `path`, empty, with mode 0600 (less the umask), if there is no such file yet.

    An empty file is a valid SQLite database, and SQLite creates the database's -wal and -shm
    files with the database file's own permissions: so all three stay readable by their owner
    only, like the key file. An existing file is left as it is (the operator chose its mode).
    Whether it was created here.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except (FileExistsError, FileNotFoundError):  # there already, or no such directory
        return False  # (SQLite then opens it, or reports the missing directory itself)
    os.close(fd)
    return True


def _keep_file_private(engine: Engine, path: Path) -> None:
    """Before each new connection: create the database file privately if it is not there yet;
    once per engine, warn when an existing file can be read by other users."""
    checked = False

    @event.listens_for(engine, "do_connect")
    def _before_connect(*_args: Any) -> None:
        nonlocal checked
        created = create_private_file(path)
        if not checked:
            checked = True
            if not created:
                _warn_if_shared(path)


def _warn_if_shared(path: Path) -> None:
    with suppress(OSError):
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            logger.warning(
                "the database file %s can be read by other users (mode %o): chmod 600 it "
                "(and its -wal and -shm files)",
                path,
                mode,
            )


def _pool_options(settings: Settings) -> dict[str, Any]:
    """Per process: at most pool_size + max_overflow connections, then a wait of pool_timeout
    seconds for one to come free (after which the request gets 503)."""
    return {
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_max_overflow,
        "pool_timeout": settings.db_pool_timeout,
    }


def _configure_sqlite(engine: Engine, busy_timeout_ms: int, *, wal: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        if wal:
            _ensure_wal(cursor, busy_timeout_ms)
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
        # Straight to the driver: a statement of SQLAlchemy's own would cost more than the BEGIN.
        connection.connection.driver_connection.execute(_BEGIN[mode])


_BEGIN = {mode: f"BEGIN {mode}" for mode in ("DEFERRED", "IMMEDIATE", "EXCLUSIVE")}


def _ensure_wal(cursor: Any, busy_timeout_ms: int) -> None:
    """Switch the file to WAL once. Several processes opening a new file at once race for this
    switch, and SQLite answers "locked" to the losers without waiting for its busy timeout: wait
    here instead, up to that timeout. A file already in WAL mode needs no switch (the mode is
    kept in the file)."""
    deadline = time.monotonic() + busy_timeout_ms / 1000
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                return
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.01 + random.random() * 0.04)  # noqa: S311


def new_session(engine: Engine) -> Session:
    return Session(engine, expire_on_commit=False)


@asynccontextmanager
async def request_session(engine: Engine) -> AsyncIterator[Session]:
    """A session for one request, opened and closed on the event loop (creating one does no
    I/O), used by the request's steps on worker threads."""
    session = new_session(engine)
    try:
        yield session
    finally:
        await close_session(session)


async def close_session(session: Session) -> None:
    """Close a request's session without blocking the event loop on the network: a session with
    no transaction open, or one on SQLite (an in-process call), is closed here; one with a
    PostgreSQL transaction open (its rollback is a round trip) on a worker thread of its own,
    so a request that holds a connection never waits for a thread to give it back."""
    with anyio.CancelScope(shield=True):
        if not session.in_transaction() or session.get_bind().dialect.name == "sqlite":
            session.close()
        else:
            await anyio.to_thread.run_sync(session.close, limiter=anyio.CapacityLimiter(1))


def begin_write(session: Session) -> None:
    """Start the session's next transaction as a write transaction.

    A read transaction already open (the current user was loaded, say) is ended first: on SQLite
    the write lock must be taken before the unit of work reads what it will change.
    """
    if session.in_transaction():
        session.commit()
    session.connection(execution_options={SQLITE_BEGIN_OPTION: "IMMEDIATE"})


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


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a table model: Core statements skip the ORM's per-row bookkeeping."""
    return SQLModel.metadata.tables[str(model.__tablename__)]


def insert_rows(
    session: Session, table: Table, rows: Sequence[Mapping[str, Any]], *, numbered: bool = False
) -> list[int]:
    """Insert rows (each with the same keys) in one batch, in the caller's unit of work; with
    `numbered`, return their new ids in the rows' order (otherwise nothing).

    PostgreSQL: SQLAlchemy's batched INSERT, numbered from the table's sequence (`RETURNING`,
    sorted back into the rows' order). SQLite: one `executemany` of the driver, each value
    converted by its column type's own bind processor. Its rows are numbered with the ids
    SQLite itself would give them, one after the largest (no table uses AUTOINCREMENT): SQLite
    cannot batch an ordered `RETURNING`, and SQLAlchemy would send one INSERT per row. This
    holds because the caller's unit of work holds the database's write lock, so no other
    writer numbers rows meanwhile. (Thousands of rows a batch: the ledger, seeding.)"""
    if not rows:
        return []
    keys = tuple(rows[0])
    if any(len(row) != len(keys) for row in rows):
        raise ValueError(f"rows for {table.name} have different keys")
    if missing := _computed_defaults(table) - set(keys):
        raise ValueError(f"rows for {table.name} must give {', '.join(sorted(missing))}")
    dialect = session.get_bind().dialect
    if dialect.name != "sqlite":
        if not numbered:
            session.execute(insert(table), rows)
            return []
        statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        return list(session.execute(statement, rows).scalars())
    ids: list[int] = []
    if numbered:
        last = session.execute(select(func.max(table.c.id))).scalar() or 0
        ids = list(range(last + 1, last + 1 + len(rows)))
    sql, id_at, readers = _driver_insert(dialect, table, keys, numbered=numbered)
    values = [tuple([read(row) for read in readers]) for row in rows]
    if id_at is not None:
        values = [
            (*row[:id_at], row_id, *row[id_at:]) for row_id, row in zip(ids, values, strict=True)
        ]
    session.connection().exec_driver_sql(sql, values)
    return ids


@functools.cache
def _driver_insert(
    dialect: Dialect, table: Table, keys: tuple[str, ...], *, numbered: bool
) -> tuple[str, int | None, list[Callable[[Mapping[str, Any]], Any]]]:
    """The INSERT's SQL for these keys (and the id, when numbered), where the id's parameter
    is, and how each other parameter's value is read from a row: its key's value through the
    column type's bind processor, or the column's constant default when the rows leave it out."""
    compiled = insert(table).compile(
        dialect=dialect, column_keys=["id", *keys] if numbered else list(keys)
    )
    order = list(compiled.positiontup or [])
    readers: list[Callable[[Mapping[str, Any]], Any]] = []
    for key in order:
        if numbered and key == "id":
            continue
        kind = table.c[key].type.dialect_impl(dialect)
        convert = kind.bind_processor(dialect)
        if convert is not None and isinstance(getattr(kind, "impl_instance", kind), DateTime):
            # Formatting a moment is the dearest conversion, and a batch's rows share moments
            # (an entry's postings, a day's events): each one is converted once.
            convert = functools.lru_cache(maxsize=4096)(convert)
        if key in keys:
            readers.append(
                operator.itemgetter(key) if convert is None else _converted(key, convert)
            )
            continue
        default = table.c[key].default
        assert isinstance(default, ScalarElementColumnDefault)  # see _computed_defaults
        readers.append(_constant(default.arg if convert is None else convert(default.arg)))
    return compiled.string, order.index("id") if numbered else None, readers


@functools.cache
def _computed_defaults(table: Table) -> frozenset[str]:
    """The columns whose default is computed per row (a moment, say): rows must give them."""
    return frozenset(
        column.key
        for column in table.columns
        if column.default is not None and not isinstance(column.default, ScalarElementColumnDefault)
    )


def _constant(value: Any) -> Callable[[Mapping[str, Any]], Any]:
    return lambda _row: value


def _converted(key: str, convert: Callable[[Any], Any]) -> Callable[[Mapping[str, Any]], Any]:
    return lambda row: convert(row[key])


def insert_if_absent(session: Session, model: type[SQLModel], values: dict[str, Any]) -> None:
    """Insert a row unless one with the same key exists (`ON CONFLICT DO NOTHING`, on SQLite
    and PostgreSQL alike), in the caller's unit of work. Two units of work that both find the
    row missing then both go on to read the one row, instead of one failing on the key."""
    dialect = session.get_bind().dialect.name
    insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
    session.execute(insert(table_of(model)).values(**values).on_conflict_do_nothing())


def is_retryable(exc: BaseException) -> bool:
    """Whether the database aborted the transaction only because of a concurrent one
    (serialization failure or deadlock), so running it again from the start is safe."""
    if not isinstance(exc, DBAPIError):
        return False
    sqlstate = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return sqlstate in RETRYABLE_SQLSTATES


def run_with_retries(
    work: Callable[[], T],
    *,
    attempts: int = 3,
    backoff_s: float = 0.02,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run `work` (a whole unit of work that starts its own transaction, e.g. one
    `write_transaction`) and run it again, at most `attempts` times in all, when PostgreSQL aborts
    it as a serialization failure or deadlock (SQLSTATE 40001 / 40P01). Any other error, or the
    last attempt's, propagates. The pause grows with each attempt, with jitter so that the
    transactions that collided do not collide again."""
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except DBAPIError as exc:
            if attempt == attempts or not is_retryable(exc):
                raise
            delay = backoff_s * 2 ** (attempt - 1) * (1 + random.random())  # noqa: S311
            logger.info("transaction conflict (attempt %d of %d), retrying", attempt, attempts)
            sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def run_in_write_transaction(
    session: Session, work: Callable[[Session], T], *, retries: int = 3
) -> T:
    """Run `work` as one unit of work on `session`; again (at most `retries` more times) when
    the database aborted it for a serialization failure or a deadlock. `work` must only touch
    the database, since a retried attempt starts from scratch."""

    def attempt() -> T:
        with write_transaction(session):
            return work(session)

    return run_with_retries(attempt, attempts=retries + 1)
