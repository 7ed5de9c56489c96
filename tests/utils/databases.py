"""Test databases: a SQLite file, or a throwaway database on the PostgreSQL server that
`TEST_DATABASE_URL` names (created here, dropped afterwards)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.pool import NullPool

from app.core.config import Settings
from app.core.migrations import VERSION_TABLE

TEST_SECRET = "test-secret-key-that-is-long-enough-for-hs256-0123456789"


def server_url() -> URL | None:
    """The PostgreSQL server the suite runs against, or None for SQLite."""
    raw = os.environ.get("TEST_DATABASE_URL")
    if not raw:
        return None
    # The same normalisation as the app's (postgresql:// means psycopg 3 here).
    url = make_url(Settings(_env_file=None, database_url=raw).database_url)  # type: ignore[call-arg]
    if url.get_backend_name() == "sqlite":
        raise RuntimeError("TEST_DATABASE_URL is for a server database; SQLite is the default")
    return url


def on_postgres() -> bool:
    return server_url() is not None


def render(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "environment": "test",
        "database_url": database_url,
        "secret_key": TEST_SECRET,
        "bcrypt_rounds": 4,
        "admin_username": None,
        "admin_password": None,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def _admin_engine(url: URL) -> Engine:
    return create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)


def create_server_database(url: URL) -> URL:
    """A new, empty database on the server of `url`; its URL."""
    name = f"openbank_test_{secrets.token_hex(6)}"
    engine = _admin_engine(url)
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        engine.dispose()
    return url.set(database=name)


def drop_server_database(url: URL) -> None:
    """Drop the database, and the sandbox databases the tests made beside it (`<name>_...`)."""
    engine = _admin_engine(url.set(database="postgres"))
    try:
        with engine.connect() as connection:
            sandboxes = connection.execute(
                text("SELECT datname FROM pg_database WHERE starts_with(datname, :prefix)"),
                {"prefix": f"{url.database}_"},
            ).scalars()
            for name in [url.database, *sandboxes]:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        engine.dispose()


@contextmanager
def empty_database(tmp_path: Path) -> Iterator[str]:
    """The URL of a database with no tables at all, dropped afterwards."""
    base = server_url()
    if base is None:
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    url = create_server_database(base)
    try:
        yield render(url)
    finally:
        drop_server_database(url)


class TableCleaner:
    """Empties every table but the migration bookkeeping, in one statement (PostgreSQL)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url, poolclass=NullPool)
        tables = [t for t in inspect(self.engine).get_table_names() if t != VERSION_TABLE]
        quoted = ", ".join(f'"{table}"' for table in tables)
        self.statement = text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")

    def clean(self) -> None:
        with self.engine.begin() as connection:
            # A test that left a transaction open would make TRUNCATE wait forever: fail instead.
            connection.exec_driver_sql("SET LOCAL lock_timeout = '10s'")
            connection.execute(self.statement)

    def dispose(self) -> None:
        self.engine.dispose()
