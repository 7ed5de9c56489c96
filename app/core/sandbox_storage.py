"""Where sandbox databases live, how whole databases are copied, and the engines that open them.

Every sandbox is a complete database of its own; its snapshots and the prepared templates that
new sandboxes start from are databases too. All of them are named by a short storage name
(`sbx_...` for a live sandbox, `sbx_..._<key>` for a snapshot, `t_<key>` for a template):

- **SQLite** (`SqliteStorage`): one file per name in `SANDBOX_DIR`. A copy is SQLite's online
  backup API (`sqlite3.Connection.backup`), page by page in one step, from a consistent read of
  the source: never row by row. Restoring writes the snapshot's pages into the live file in
  place, under the file's write lock, so other connections (other workers too) see the old state
  or the new one, never a mix.
- **PostgreSQL** (`PostgresStorage`): one database per name on the server of `DATABASE_URL`,
  called `<database>_<name>`. A copy is `CREATE DATABASE ... TEMPLATE ...`, which needs the
  source to have no connections: callers close the sandbox first (`copies_need_exclusive_access`).

`SandboxEngines` keeps one engine per open sandbox in a bounded LRU cache and disposes an engine
when it is evicted or its sandbox goes away.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from contextlib import closing, suppress
from pathlib import Path
from typing import Protocol

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.pool import NullPool

from app.core.config import Settings
from app.core.db import create_db_engine, create_private_file


class SandboxStorage(Protocol):
    copies_need_exclusive_access: bool

    def url(self, name: str) -> str: ...

    def exists(self, name: str) -> bool: ...

    def create_empty(self, name: str) -> None: ...

    def copy(self, source: str, target: str) -> None: ...

    def rename(self, source: str, target: str) -> bool: ...

    def drop(self, name: str) -> None: ...

    def close_connections(self, name: str) -> None: ...


class SqliteStorage:
    """One SQLite file per database, in one folder."""

    copies_need_exclusive_access = False

    def __init__(self, folder: Path, busy_timeout_ms: int) -> None:
        self.folder = folder
        self.timeout = busy_timeout_ms / 1000
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)

    def path(self, name: str) -> Path:
        return self.folder / f"{name}.db"

    def url(self, name: str) -> str:
        # `mode=rw`: a file that was removed is an error, not a new empty database.
        return f"sqlite:///file:{self.path(name)}?mode=rw&uri=true"

    def exists(self, name: str) -> bool:
        return self.path(name).exists()

    def create_empty(self, name: str) -> None:
        create_private_file(self.path(name))

    def copy(self, source: str, target: str) -> None:
        """Copy `source` into `target` (made if missing, else overwritten in place)."""
        create_private_file(self.path(target))
        with (
            closing(sqlite3.connect(self.path(source), timeout=self.timeout)) as src,
            closing(sqlite3.connect(self.path(target), timeout=self.timeout)) as dst,
        ):
            src.backup(dst)  # all pages in one step: one consistent read, one write lock

    def rename(self, source: str, target: str) -> bool:
        """Move `source` to `target` unless `target` exists; whether it moved."""
        if self.exists(target):
            return False
        os.replace(self.path(source), self.path(target))
        return True

    def drop(self, name: str) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            with suppress(FileNotFoundError):
                os.unlink(f"{self.path(name)}{suffix}")

    def close_connections(self, name: str) -> None:
        """Nothing to do: SQLite copies from a live file."""


class PostgresStorage:
    """One database per name on the server of `DATABASE_URL`, made from templates."""

    copies_need_exclusive_access = True

    def __init__(self, database_url: str) -> None:
        self.base = make_url(database_url)
        self.prefix = f"{self.base.database}_"
        self._admin = create_engine(
            self.base, isolation_level="AUTOCOMMIT", poolclass=NullPool, pool_pre_ping=True
        )

    def database(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def url(self, name: str) -> str:
        url: URL = self.base.set(database=self.database(name))
        return url.render_as_string(hide_password=False)

    def _run(self, sql: str, **params: str) -> list[tuple[object, ...]]:
        with self._admin.connect() as connection:
            result = connection.execute(text(sql), params)
            return [tuple(row) for row in result] if result.returns_rows else []

    def exists(self, name: str) -> bool:
        rows = self._run("SELECT 1 FROM pg_database WHERE datname = :n", n=self.database(name))
        return bool(rows)

    def create_empty(self, name: str) -> None:
        self._run(f'CREATE DATABASE "{self.database(name)}"')

    def copy(self, source: str, target: str) -> None:
        self.close_connections(source)
        self.drop(target)
        self._run(f'CREATE DATABASE "{self.database(target)}" TEMPLATE "{self.database(source)}"')

    def rename(self, source: str, target: str) -> bool:
        if self.exists(target):
            return False
        self._run(f'ALTER DATABASE "{self.database(source)}" RENAME TO "{self.database(target)}"')
        return True

    def drop(self, name: str) -> None:
        self._run(f'DROP DATABASE IF EXISTS "{self.database(name)}" WITH (FORCE)')

    def close_connections(self, name: str) -> None:
        """End every other session on the database (other workers' pooled connections)."""
        self._run(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = :n AND pid <> pg_backend_pid()",
            n=self.database(name),
        )

    def names(self) -> list[str]:
        """Every database of this storage, by storage name (for clean-up)."""
        rows = self._run(
            "SELECT datname FROM pg_database WHERE starts_with(datname, :p)", p=self.prefix
        )
        return [str(row[0])[len(self.prefix) :] for row in rows]

    def dispose(self) -> None:
        self._admin.dispose()


def sandbox_folder(settings: Settings) -> Path:
    """`SANDBOX_DIR`; by default `sandboxes/` beside the SQLite database file (`./sandboxes`
    for the default `./openbank.db`), or a temporary folder for an in-memory database."""
    if settings.sandbox_dir is not None:
        return settings.sandbox_dir
    database = make_url(settings.database_url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return Path(tempfile.mkdtemp(prefix="openbank-sandboxes-"))
    return Path(database).parent / "sandboxes"


def open_storage(settings: Settings) -> SqliteStorage | PostgresStorage:
    if settings.is_sqlite:
        return SqliteStorage(sandbox_folder(settings), settings.sqlite_busy_timeout_ms)
    return PostgresStorage(settings.database_url)


class SandboxEngines:
    """An engine per open sandbox, at most `SANDBOX_ENGINE_CACHE` of them, least recently used
    evicted (and disposed) first. `get` is one dictionary look-up."""

    def __init__(self, settings: Settings, storage: SandboxStorage) -> None:
        self.settings = settings
        self.storage = storage
        self.capacity = settings.sandbox_engine_cache
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, sandbox_id: str) -> Engine | None:
        engine = self._engines.get(sandbox_id)
        if engine is not None:
            with suppress(KeyError):
                self._engines.move_to_end(sandbox_id)
        return engine

    def open(self, sandbox_id: str, prepare: Callable[[Engine], None]) -> Engine:
        """The sandbox's engine, made (and `prepare`d: schema brought to this code's revision)
        when it is not open yet."""
        engine = self.get(sandbox_id)
        if engine is not None:
            return engine
        settings = self.settings.model_copy(
            update={
                "database_url": self.storage.url(sandbox_id),
                "db_pool_size": self.settings.sandbox_db_pool_size,
                "db_max_overflow": self.settings.db_max_overflow,
            }
        )
        engine = create_db_engine(settings)
        prepare(engine)
        evicted: list[Engine] = []
        with self._lock:
            existing = self._engines.get(sandbox_id)
            if existing is not None:  # another thread opened it meanwhile
                evicted.append(engine)
                engine = existing
            else:
                self._engines[sandbox_id] = engine
                while len(self._engines) > self.capacity:
                    evicted.append(self._engines.popitem(last=False)[1])
        for old in evicted:
            old.dispose()
        return engine

    def open_ids(self) -> list[str]:
        """The sandboxes whose engines are open now, least recently used first."""
        with self._lock:
            return list(self._engines)

    def close(self, sandbox_id: str) -> None:
        """Dispose the sandbox's engine (its pooled connections close); the next `open` makes
        a new one."""
        with self._lock:
            engine = self._engines.pop(sandbox_id, None)
        if engine is not None:
            engine.dispose()

    def dispose(self) -> None:
        with self._lock:
            engines = list(self._engines.values())
            self._engines.clear()
        for engine in engines:
            engine.dispose()
