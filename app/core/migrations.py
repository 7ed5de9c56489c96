"""Schema migrations with Alembic: the database is brought to the code's revision at start.

The app's lifespan (`prepare_schema`), `seed.py` (`upgrade_to_head`) and `uv run alembic ...`
(migrations/env.py) all go through `migration_lock` and `migration_transaction`, so:

- several workers or hosts that start at once migrate one after the other (PostgreSQL: an
  advisory lock; SQLite: the database's write lock, taken by the migration's transaction), and
  the later ones find the work done;
- all pending migrations run in one transaction: a failure leaves the database as it was;
- on SQLite foreign keys are off while tables are rebuilt (Alembic's batch mode copies a table,
  drops the old one and renames the copy; with foreign keys on, that drop would delete every
  child row through ON DELETE CASCADE) and are checked before the commit;
- a database at a revision this code does not know (migrated by a newer version) is refused.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import MetaData, inspect, text
from sqlalchemy.engine import Connection, Engine

from app.core.config import ConfigError
from app.core.db import SQLITE_BEGIN_OPTION

logger = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ALEMBIC_INI = PROJECT_ROOT / "alembic.ini"
MIGRATIONS_DIR = PROJECT_ROOT / "migrations"

# The schema that `create_all` made before there were migrations (version 0.1.0).
FOUNDATION_REVISION = "0001"
FOUNDATION_MARKER_TABLE = "customer"
VERSION_TABLE = "alembic_version"

# How autogenerate compares the models with the database (migrations/env.py and the tests).
COMPARE_OPTIONS = {"compare_type": True, "compare_server_default": True}

# Key of the PostgreSQL advisory lock: one constant for every process of this app ("openbank").
ADVISORY_LOCK_KEY = int.from_bytes(b"openbank", "big")
# How long a starting SQLite worker waits for another one's migration to finish.
SQLITE_MIGRATION_BUSY_TIMEOUT_MS = 60_000


class SchemaVersionError(ConfigError):
    """The database's schema revision does not fit this code; the message says what to do."""


class MigrationIntegrityError(RuntimeError):
    """A migration left rows that break a foreign key; it has been rolled back."""


def alembic_config() -> Config:
    """The project's Alembic configuration, wherever the process was started from."""
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


@lru_cache(maxsize=1)
def head_revisions() -> frozenset[str]:
    """The code's revision(s); read from the migration scripts once per process."""
    return frozenset(script_directory().get_heads())


def current_revisions(connection: Connection) -> set[str]:
    return set(MigrationContext.configure(connection).get_current_heads())


@contextmanager
def migration_lock(engine: Engine) -> Iterator[Connection]:
    """A connection holding the cross-process start-up lock for as long as the block runs.

    On PostgreSQL a session-level advisory lock, so that a migration and the first-start data
    that follows it are done by one process at a time. On SQLite nothing is taken here: the
    migration's own transaction holds the write lock (see `migration_transaction`) and the
    first-start data is written in `BEGIN IMMEDIATE` units of work.
    """
    with engine.connect() as connection:
        if connection.dialect.name != "postgresql":
            yield connection
            return
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        connection.commit()
        try:
            yield connection
        finally:
            connection.rollback()
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
            connection.commit()


@contextmanager
def migration_transaction(connection: Connection) -> Iterator[Connection]:
    """One transaction for a whole migration run; on SQLite with the write lock taken up front
    and foreign keys off until it is committed (checked first)."""
    if connection.in_transaction():
        connection.commit()
    if connection.dialect.name != "sqlite":
        with connection.begin():
            yield connection
        return
    driver = connection.connection.dbapi_connection
    assert driver is not None
    (busy_timeout_ms,) = driver.execute("PRAGMA busy_timeout").fetchone()
    # On the driver's connection, outside any transaction: foreign_keys is ignored inside one.
    driver.execute("PRAGMA foreign_keys=OFF")
    driver.execute(f"PRAGMA busy_timeout={max(busy_timeout_ms, SQLITE_MIGRATION_BUSY_TIMEOUT_MS)}")
    connection.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
    try:
        with connection.begin():
            yield connection
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise MigrationIntegrityError(
                    f"the migration left rows that break foreign keys: {broken[:5]}"
                )
    finally:
        connection.execution_options(**{SQLITE_BEGIN_OPTION: "DEFERRED"})
        driver.execute("PRAGMA foreign_keys=ON")
        driver.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")


def _check_known(current: set[str], script: ScriptDirectory) -> None:
    for revision in sorted(current):
        try:
            script.get_revision(revision)
        except CommandError:
            raise SchemaVersionError(
                f"The database is at schema revision {revision!r}, which this version of the "
                "code does not know: a newer version has migrated it. Run that newer version, or "
                "downgrade the database with it (uv run alembic downgrade <revision>) first."
            ) from None


def _run_upgrade(connection: Connection) -> None:
    config = alembic_config()
    script = ScriptDirectory.from_config(config)
    current = current_revisions(connection)
    _check_known(current, script)
    config.attributes["connection"] = connection
    if not current and inspect(connection).has_table(FOUNDATION_MARKER_TABLE):
        logger.warning(
            "the database has tables but no schema revision: it was created before migrations "
            "existed; marking it as revision %s and upgrading from there",
            FOUNDATION_REVISION,
        )
        command.stamp(config, FOUNDATION_REVISION)
    heads = set(script.get_heads())
    if current != heads:
        command.upgrade(config, "head")
        logger.info(
            "database schema migrated from revision %s to %s",
            ", ".join(sorted(current)) or "none",
            ", ".join(sorted(heads)),
        )


def upgrade(connection: Connection) -> None:
    """Bring the database to the newest revision, on a connection holding `migration_lock`."""
    with migration_transaction(connection):
        _run_upgrade(connection)


def check_at_head(connection: Connection) -> None:
    """Refuse a database that is not at the code's revision (when AUTO_MIGRATE is off)."""
    script = script_directory()
    current = current_revisions(connection)
    connection.rollback()
    _check_known(current, script)
    heads = set(script.get_heads())
    if current != heads:
        raise SchemaVersionError(
            f"The database is at schema revision {sorted(current) or 'none'}, this code needs "
            f"{sorted(heads)}. Run `uv run alembic upgrade head` (or start with "
            "AUTO_MIGRATE=true)."
        )


def prepare_schema(connection: Connection, *, auto_migrate: bool) -> None:
    if auto_migrate:
        upgrade(connection)
    else:
        check_at_head(connection)


def upgrade_to_head(engine: Engine) -> None:
    """Migrate under the start-up lock: for scripts and tests that have an engine only."""
    with migration_lock(engine) as connection:
        upgrade(connection)


def drop_everything(engine: Engine) -> None:
    """Drop every table in the database, the migration bookkeeping included."""
    metadata = MetaData()
    metadata.reflect(engine)
    metadata.drop_all(engine)


def upgrade_if_behind(engine: Engine) -> None:
    """Bring a database to the code's revision when it is behind (one query when it is not):
    a sandbox's database when it is opened."""
    with engine.connect() as connection:
        current = current_revisions(connection)
        connection.rollback()
    if current != head_revisions():
        upgrade_to_head(engine)
