"""The MCP server over streamable HTTP at `/mcp`, inside the FastAPI app.

- **One route, no redirect.** `/mcp` is a plain route of the app whose endpoint is the SDK's
  Starlette app (its own route is `/mcp` too), so clients POST to exactly the URL they are given.
  A mount would answer `/mcp` with a 307 to `/mcp/`.
- **Stateless, JSON.** Every POST is answered on its own (`stateless_http=True`) with a JSON body
  (`json_response=True`): no session lives in a worker's memory, so any of `--workers N` or any
  instance behind a load balancer can answer any request, and a client that speaks only plain
  request/response (curl, Postman) works. The tools neither stream nor call back to the client.
- **Started with the app.** A mounted app's own lifespan does not run; the app's lifespan calls
  `running()`, which builds the SDK's app and runs its session manager until the app stops.
  Each run of the lifespan builds its own (the manager can run once only).
- **Auth** is the SDK's bearer middleware with our token check (`app.mcp.auth`).
- **DNS-rebinding protection** (the SDK's Host/Origin checks) is off unless `MCP_ALLOWED_HOSTS`
  is set: it protects servers that trust whoever can reach them, and this one trusts only a
  Bearer token, which a browser never adds to a request by itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from mcp.server import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.config import Settings
from app.mcp.auth import DatabaseUnavailable, TokenRefused
from app.mcp.tools import DATABASE_UNAVAILABLE

MCP_PATH = "/mcp"


def transport_security(settings: Settings) -> TransportSecuritySettings:
    """The SDK's Host/Origin checks: on only for the hosts in `MCP_ALLOWED_HOSTS` (a `:*` suffix
    allows any port); a request's Origin, when it has one, must be one of them over http(s)."""
    hosts = settings.mcp_allowed_hosts
    if not hosts:
        return TransportSecuritySettings(enable_dns_rebinding_protection=False)
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=list(hosts),
        allowed_origins=[f"{scheme}://{host}" for host in hosts for scheme in ("http", "https")],
    )


class _VerifierErrors:
    """What the token check raises, answered as the REST API would: a refused credential is 401
    with `WWW-Authenticate: Bearer error="invalid_token", error_description="<why>"`, and a
    database that is down a 503 (not a 500)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except TokenRefused as refused:
            # Raised by the token check, before anything was sent.
            error = refused.error
            response = JSONResponse(
                {"error": "invalid_token", "error_description": error.reason},
                error.status_code,
                headers=error.headers,
            )
            await response(scope, receive, send)
        except DatabaseUnavailable:
            response = JSONResponse(
                {"detail": DATABASE_UNAVAILABLE}, 503, headers={"Retry-After": "1"}
            )
            await response(scope, receive, send)


class McpHttpEndpoint:
    """The ASGI app behind `/mcp`; it serves while `running()` is entered."""

    def __init__(self, server: MCPServer, settings: Settings) -> None:
        self.server = server
        self.settings = settings
        self._apps: list[Starlette] = []

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Build the SDK's app and run its session manager until the block ends."""
        app = self.server.streamable_http_app(
            streamable_http_path=MCP_PATH,
            stateless_http=True,
            json_response=True,
            transport_security=transport_security(self.settings),
            max_request_body_size=self.settings.max_body_bytes,
        )
        # Outside the SDK's authentication middleware, inside its error middleware.
        app.add_middleware(_VerifierErrors)
        manager = self.server.session_manager  # the one the call above made
        async with manager.run():
            self._apps.append(app)
            try:
                yield
            finally:
                self._apps.remove(app)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._apps:
            response = JSONResponse({"detail": "The MCP server is not running"}, 503)
            await response(scope, receive, send)
            return
        # The newest run: in a server there is exactly one.
        await self._apps[-1](scope, receive, send)
