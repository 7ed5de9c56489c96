"""Logs at INFO: no line per MCP request, no Alembic chatter on a normal start."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.core.logs import QUIET_LOGGERS, configure_logging
from app.main import create_app
from tests.utils.auth import create_staff_user, logon_headers
from tests.utils.mcp import MCP_HEADERS, initialize_body


def library_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        f"{record.name}: {record.getMessage()}"
        for record in caplog.records
        if (record.name.startswith("alembic.") or record.name == "mcp.server.streamable_http")
        and record.levelno < logging.WARNING
    ]


@pytest.mark.sqlite_only  # a first start that migrates needs an empty database
def test_a_start_and_mcp_requests_log_no_library_lines_at_info(
    settings: Settings, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.INFO)
    # A new file, not the suite's migrated copy.
    fresh = {"log_level": "INFO", "database_url": f"sqlite:///{tmp_path / 'fresh.db'}"}
    with TestClient(create_app(settings.model_copy(update=fresh))) as client:
        # The first start migrates the empty database: one line of the app's, none of Alembic's.
        migrated = [r.getMessage() for r in caplog.records if r.name == "app.core.migrations"]
        assert len(migrated) == 1
        assert migrated[0].startswith("database schema migrated from revision none to ")
        create_staff_user(client.app.state.engine, "log.analyst", "analyst-password-1", "analyst")
        headers = {**MCP_HEADERS, **logon_headers(client, "log.analyst", "analyst-password-1")}
        for request_id in (1, 2, 3):
            response = client.post("/mcp", json=initialize_body(request_id), headers=headers)
            assert response.status_code == 200, response.text
    assert library_lines(caplog) == []

    caplog.clear()
    # A normal start: the database is at the newest schema, nothing to say.
    with TestClient(create_app(settings)) as client:
        assert client.get("/health").status_code == 200
    assert library_lines(caplog) == []
    assert not [r for r in caplog.records if r.name == "app.core.migrations"]


def test_debug_lets_the_libraries_speak() -> None:
    try:
        configure_logging("DEBUG")
        assert all(logging.getLogger(name).level == logging.NOTSET for name in QUIET_LOGGERS)
        configure_logging("warning")
        assert all(logging.getLogger(name).level == logging.WARNING for name in QUIET_LOGGERS)
    finally:
        configure_logging("INFO")
    assert all(logging.getLogger(name).level == logging.WARNING for name in QUIET_LOGGERS)
