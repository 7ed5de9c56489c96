"""`python -m app.mcp`: the same tools over stdio, reading the configured database directly."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.server import MCPServer
from mcp_types import TextResourceContents
from sqlmodel import Session

from app.core.config import ConfigError, Settings
from app.core.db import create_db_engine, new_session
from app.core.migrations import PROJECT_ROOT
from app.mcp import __main__ as stdio_main
from app.models.customer import Customer
from tests.utils.databases import TEST_SECRET, empty_database, make_settings
from tests.utils.mcp import leaves
from tests.utils.portfolio import add_asset, add_customer

TIMEOUT_S = 60


def server_parameters(database_url: str) -> StdioServerParameters:
    """How a desktop client would start it, pointed at the test database."""
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "app.mcp"],
        cwd=PROJECT_ROOT,
        env={
            "DATABASE_URL": database_url,
            "ENVIRONMENT": "test",
            "SECRET_KEY": TEST_SECRET,
            "LOG_LEVEL": "WARNING",
            "ADMIN_USERNAME": "",
            "ADMIN_PASSWORD": "",
        },
    )


def over_stdio(database_url: str, tmp_path: Path, work: Any) -> Any:
    """Start the server as a subprocess, run `work(client)` against it, stop it; bounded."""
    errlog = tmp_path / "mcp-stdio.log"

    async def session() -> Any:
        with anyio.fail_after(TIMEOUT_S), errlog.open("w") as log:
            async with Client(stdio_client(server_parameters(database_url), errlog=log)) as mcp:
                return await work(mcp)

    try:
        return anyio.run(session)
    except BaseException as exc:
        log = errlog.read_text() if errlog.exists() else ""
        raise AssertionError(f"stdio server failed: {leaves(exc)}\n--- its stderr:\n{log}") from exc


def test_the_stdio_server_serves_the_tools_on_the_configured_database(
    client: TestClient, session: Session, settings: Settings, tmp_path: Path
) -> None:
    customer_id = add_customer(session, "Stdio Sam")
    add_asset(session, customer_id, "AAPL", quantity="3", value="600.00")
    uri = f"bank://customers/{customer_id}/summary"

    async def work(mcp: Client) -> dict[str, Any]:
        tools = await mcp.list_tools()
        summary = await mcp.call_tool("get_portfolio_summary", {"customer_oid": str(customer_id)})
        bad = await mcp.call_tool("customer_exists", {"customer_oid": "nope"})
        resource = await mcp.read_resource(uri)
        return {"tools": tools, "summary": summary, "bad": bad, "resource": resource}

    seen = over_stdio(settings.database_url, tmp_path, work)
    assert {tool.name for tool in seen["tools"].tools} >= {"get_portfolio", "health"}
    assert len(seen["tools"].tools) == 8
    summary = seen["summary"].structured_content
    assert summary["customer_oid"] == str(customer_id)
    assert summary["totals_by_currency"]["USD"]["assets_value"] == "600.00"
    assert seen["bad"].is_error
    assert seen["bad"].content[0].text.endswith("Invalid CustomerOID format")
    (contents,) = seen["resource"].contents
    assert isinstance(contents, TextResourceContents)
    assert '"total_assets":1' in contents.text


def test_the_stdio_server_starts_on_a_fresh_database(tmp_path: Path) -> None:
    async def work(mcp: Client) -> tuple[Any, Any]:
        health = await mcp.call_tool("health", {})
        customers = await mcp.call_tool("list_customers", {})
        return health, customers

    with empty_database(tmp_path) as url:
        health, customers = over_stdio(url, tmp_path, work)
    assert health.structured_content["database"] == "connected"
    assert customers.structured_content == {"customers": [], "total": 0, "limit": 100, "offset": 0}


def test_main_refuses_a_weak_bootstrap_admin_before_touching_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(MCPServer, "run", lambda *_args, **_kwargs: None)
    path = tmp_path / "never.db"
    settings = make_settings(
        f"sqlite:///{path}", admin_username="boss", admin_password="short-pass"
    )
    with pytest.raises(ConfigError, match="ADMIN_PASSWORD"):
        stdio_main.main(settings)
    assert not path.exists()


def test_main_prepares_the_database_then_runs_over_stdio(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The module's entry point in this process (the subprocess tests above are not measured)."""
    runs: list[tuple[MCPServer, str]] = []

    def run(self: MCPServer, transport: str = "stdio", **_: Any) -> None:
        runs.append((self, transport))

    monkeypatch.setattr(MCPServer, "run", run)
    with empty_database(tmp_path) as url:
        settings = make_settings(url)
        stdio_main.main(settings)
        engine = create_db_engine(settings)
        try:
            with new_session(engine) as session:  # migrated: the tables are there
                assert session.get(Customer, uuid.uuid4()) is None
        finally:
            engine.dispose()
    ((server, transport),) = runs
    assert transport == "stdio"
    assert server.settings.auth is None  # the local user: no token over stdio
