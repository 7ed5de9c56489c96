from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.core.db import create_db_engine
from app.services import health


@pytest.fixture
def database_down(
    app: FastAPI, client: TestClient, settings: Settings, tmp_path: Path
) -> Iterator[None]:
    """Point the running app at a SQLite file in a directory that does not exist."""
    missing = tmp_path / "no-such-directory" / "bank.db"
    unreachable = create_db_engine(
        settings.model_copy(update={"database_url": f"sqlite:///{missing}"})
    )
    original = app.state.engine
    app.state.engine = unreachable
    yield
    app.state.engine = original
    unreachable.dispose()


def test_landing_links_to_the_docs(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.json() == {
        "message": "Welcome to OpenBank API, a sandbox bank for developers and agents",
        "version": "0.1.0",
        "docs": "/docs",
        "redoc": "/redoc",
        "health": "/health",
    }


def test_health_reports_connected_database(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "service": "openbank-api",
        "version": "0.1.0",
        "database": "connected",
        "sandboxes": 0,
    }


@pytest.mark.usefixtures("database_down")
def test_health_is_503_when_the_database_is_unreachable(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "service": "openbank-api",
        "version": "0.1.0",
        "database": "unreachable",
        "sandboxes": None,
    }


def test_health_is_503_when_the_check_fails(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(health, "database_ok", lambda *, session: False)
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"
    assert response.json()["status"] == "unavailable"


@pytest.mark.usefixtures("database_down")
@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("GET", "/countries", {}),
        ("GET", "/currencies", {}),
        ("POST", "/auth/logon", {"data": {"username": "alice", "password": "x" * 12}}),
    ],
)
def test_other_endpoints_answer_503_json_when_the_database_is_down(
    client: TestClient, method: str, path: str, kwargs: dict[str, object]
) -> None:
    response = client.request(method, path, **kwargs)
    assert response.status_code == 503
    assert response.json() == {"detail": "Database unavailable, try again later"}


def test_landing_does_not_need_the_database(client: TestClient, database_down: None) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.json()["health"] == "/health"
