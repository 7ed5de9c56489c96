"""Fixtures for the MCP server: the SDK's client with an analyst's or an admin's token."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.utils.mcp import McpCaller


@pytest.fixture
def analyst_mcp(client: TestClient, analyst_headers: dict[str, str]) -> McpCaller:
    return McpCaller(client, analyst_headers)


@pytest.fixture
def admin_mcp(client: TestClient, admin_headers: dict[str, str]) -> McpCaller:
    return McpCaller(client, admin_headers)
