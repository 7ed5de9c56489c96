"""Fixtures: a fresh database and app per test, and logged-in callers of every role.

Each test gets its own SQLite file (so concurrency tests see real locking) unless
`TEST_DATABASE_URL` points at a server database, which is then emptied before each test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from app.core.config import Settings
from app.core.db import new_session
from app.main import create_app
from tests.utils.auth import AuthedUser, create_staff_user, logon_headers, register_customer

TEST_SECRET = "test-secret-key-that-is-long-enough-for-hs256-0123456789"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'test.db'}"
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        database_url=url,
        secret_key=TEST_SECRET,
        bcrypt_rounds=4,
        admin_username=None,
        admin_password=None,
    )


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    application = create_app(settings)
    if not settings.is_sqlite:
        # A server database outlives the test: start from empty tables (the app recreates them).
        import app.models  # noqa: F401  (registers every table)

        SQLModel.metadata.drop_all(application.state.engine)
    return application


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
