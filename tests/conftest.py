"""Fixtures: a fresh database and app per test, and logged-in callers of every role.

Each test gets its own SQLite file (so concurrency tests see real locking), a copy of one the
session migrated once, unless `TEST_DATABASE_URL` names a PostgreSQL server: then the session
creates one throwaway database there, migrates it once, empties every table before each test and
drops the database at the end. Either way the app's start puts the reference data into the
empty, migrated tables.

Markers: `sqlite_only` / `postgres_only` for the few tests that mean something on one database
only (README, "Tests that run on one database only").
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.core.config import Settings
from app.core.db import new_session
from app.core.migrations import upgrade_to_head
from app.main import create_app
from tests.utils.auth import AuthedUser, create_staff_user, logon_headers, register_customer
from tests.utils.databases import (
    TableCleaner,
    create_server_database,
    drop_server_database,
    make_settings,
    on_postgres,
    render,
    server_url,
)

pytest_plugins = ["tests.progress"]


def pytest_report_header() -> str:
    url = server_url()
    if url is None:
        return "database: SQLite (a new file per test)"
    return f"database: PostgreSQL at {url.host}:{url.port} (TEST_DATABASE_URL)"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    postgres = on_postgres()
    for item in items:
        if postgres and item.get_closest_marker("sqlite_only"):
            item.add_marker(pytest.mark.skip(reason="only meaningful on SQLite"))
        if not postgres and item.get_closest_marker("postgres_only"):
            item.add_marker(pytest.mark.skip(reason="only meaningful on PostgreSQL"))


@pytest.fixture(scope="session")
def server_database() -> Iterator[TableCleaner | None]:
    """On PostgreSQL: the session's migrated database (its cleaner knows the URL)."""
    base = server_url()
    if base is None:
        yield None
        return
    url = create_server_database(base)
    try:
        engine = create_engine(url)
        try:
            upgrade_to_head(engine)
        finally:
            engine.dispose()
        cleaner = TableCleaner(render(url))
        try:
            yield cleaner
        finally:
            cleaner.dispose()
    finally:
        drop_server_database(url)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty SQLite database at the migrations' head, made once: copying it is about a
    millisecond, migrating a new file a few hundred."""
    path = tmp_path_factory.mktemp("template") / "migrated.db"
    engine = create_engine(f"sqlite:///{path}")
    try:
        upgrade_to_head(engine)
    finally:
        engine.dispose()
    return path


@pytest.fixture
def database_url(
    server_database: TableCleaner | None, tmp_path: Path, request: pytest.FixtureRequest
) -> str:
    if server_database is None:
        path = tmp_path / "test.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    server_database.clean()
    return server_database.url


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    # On a server database, `database_url` has emptied every table (the app's start puts the
    # reference data back); its schema stays at the migrations' head.
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def engine(app: FastAPI, client: TestClient) -> Engine:
    engine: Engine = app.state.engine
    return engine


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with new_session(engine) as db_session:
        yield db_session


@pytest.fixture
def customer(client: TestClient) -> AuthedUser:
    return register_customer(client, username="alice")


@pytest.fixture
def other_customer(client: TestClient) -> AuthedUser:
    return register_customer(client, username="bob", name="Bob Builder")


@pytest.fixture
def admin_headers(client: TestClient, engine: Engine) -> dict[str, str]:
    create_staff_user(engine, "root.admin", "admin-password-123", role="admin")
    return logon_headers(client, "root.admin", "admin-password-123")


@pytest.fixture
def analyst_headers(client: TestClient, engine: Engine) -> dict[str, str]:
    create_staff_user(engine, "agent.analyst", "analyst-password-123", role="analyst")
    return logon_headers(client, "agent.analyst", "analyst-password-123")


@pytest.fixture
def make_client(settings: Settings) -> Iterator[Callable[..., TestClient]]:
    """Build another app from the test settings with some of them changed, and a started
    client for it (`make_client(max_body_bytes=2048)`). The same database is used unless
    `database_url` is overridden; every client is closed at the end of the test."""
    with ExitStack() as stack:

        def factory(**overrides: Any) -> TestClient:
            application = create_app(settings.model_copy(update=overrides))
            return stack.enter_context(TestClient(application))

        yield factory
