"""The SDK's own MCP client against the app, in process.

Requests go through `httpx2.ASGITransport` (the SDK's HTTP client library) into the app that a
`TestClient` has started: they run on that client's event loop (its portal), where the app's
lifespan started the MCP session manager, so the whole stack is the one a server runs: the
route, the bearer middleware with our token check, the SDK's transport and the tools.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx2
from fastapi.testclient import TestClient
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult, GetPromptResult, ReadResourceResult, TextContent, Tool

T = TypeVar("T")

BASE_URL = "http://testserver"
MCP_URL = f"{BASE_URL}/mcp"
# Headers a streamable-HTTP client sends with every POST.
MCP_HEADERS = {"Accept": "application/json, text/event-stream"}


def initialize_body(request_id: int = 1) -> dict[str, Any]:
    """A JSON-RPC `initialize` request, as a client sends it first."""
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "pytest", "version": "1"},
        },
    }


class McpCaller:
    """Opens an MCP session per call, as a client would, with the given HTTP headers.

    `mode` is the SDK client's: "legacy" (the initialize handshake most clients use today) or
    "auto" (the 2026-07-28 per-request protocol when the server speaks it).
    """

    def __init__(
        self, client: TestClient, headers: dict[str, str] | None = None, mode: str = "legacy"
    ) -> None:
        self.client = client
        self.headers = headers or {}
        self.mode = mode

    def run(self, work: Callable[[Client], Awaitable[T]]) -> T:
        app = self.client.app

        async def session() -> T:
            async with (
                httpx2.AsyncClient(
                    transport=httpx2.ASGITransport(app=app),
                    base_url=BASE_URL,
                    headers=self.headers,
                    timeout=30,
                ) as http,
                Client(
                    streamable_http_client(MCP_URL, http_client=http),
                    mode=self.mode,
                    read_timeout_seconds=30,
                ) as mcp,
            ):
                return await work(mcp)

        portal = self.client.portal
        assert portal is not None, "the TestClient must be started (used as a context manager)"
        try:
            return portal.call(session)
        except BaseExceptionGroup as group:
            # The SDK's client raises from inside its task groups: surface the one error.
            errors = leaves(group)
            if len(errors) == 1:
                raise errors[0] from group
            raise

    def tools(self) -> dict[str, Tool]:
        async def work(mcp: Client) -> dict[str, Tool]:
            return {tool.name: tool for tool in (await mcp.list_tools()).tools}

        return self.run(work)

    def call(self, name: str, arguments: dict[str, Any] | None = None) -> CallToolResult:
        async def work(mcp: Client) -> CallToolResult:
            return await mcp.call_tool(name, arguments or {})

        return self.run(work)

    def ok(self, name: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
        """The structured output of a call that must succeed."""
        result = self.call(name, arguments)
        assert not result.is_error, error_text(result)
        assert result.structured_content is not None
        # The text content carries the same data, for clients that ignore structured output.
        assert json.loads(text_of(result)) == result.structured_content
        return result.structured_content

    def error(self, name: str, arguments: dict[str, Any] | None = None) -> str:
        """The message of a call that must fail as a tool error."""
        result = self.call(name, arguments)
        assert result.is_error, result.structured_content
        assert result.structured_content is None
        return error_text(result)

    def read(self, uri: str) -> ReadResourceResult:
        async def work(mcp: Client) -> ReadResourceResult:
            return await mcp.read_resource(uri)

        return self.run(work)

    def prompt(self, name: str, arguments: dict[str, str]) -> GetPromptResult:
        async def work(mcp: Client) -> GetPromptResult:
            return await mcp.get_prompt(name, arguments)

        return self.run(work)


def text_of(result: CallToolResult) -> str:
    (block,) = result.content
    assert isinstance(block, TextContent)
    return block.text


def error_text(result: CallToolResult) -> str:
    return text_of(result) if result.content else "<no content>"


def leaves(exc: BaseException) -> list[BaseException]:
    """The exceptions inside (nested) exception groups, or `exc` itself."""
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in leaves(inner)]
    return [exc]
