"""Routes each request to its sandbox: the `OpenBank-Sandbox` header names it; none means the
default sandbox (the server's own database).

Pure ASGI, so the sandbox is set as a context variable that the endpoint, its dependencies and
the worker threads they run in all see. A malformed header is 400, an unknown or expired sandbox
404 `{"detail": "Sandbox sbx_... not found"}`. `/mcp` without the header serves the sandbox that
issued its Bearer credential. A request enters the sandbox's gate for as long as it runs, so a
restore waits for it; the `/sandboxes` routes themselves do not (a restore is one of them).
"""

from __future__ import annotations

import anyio.to_thread
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.sandbox_context import (
    DEFAULT_SANDBOX,
    SandboxContext,
    enter_sandbox,
    is_sandbox_id,
    leave_sandbox,
)
from app.core.sandbox_gate import GateTimeout
from app.core.security import bearer_token, unverified_sandbox
from app.errors import AppError, MalformedSandboxId, SandboxBusy
from app.mcp.http import MCP_PATH
from app.services import api_keys
from app.services.sandboxes import GATE_TIMEOUT_SECONDS, SandboxHub

HEADER = b"openbank-sandbox"
UNGATED_PREFIX = "/sandboxes"


def _credential_sandbox(headers: Headers) -> str | None:
    """The sandbox that issued the request's Bearer credential (for `/mcp`)."""
    token = bearer_token(headers.get("authorization"))
    if token is None:
        return None
    if api_keys.is_api_key(token):
        return api_keys.sandbox_of_key(token)
    return unverified_sandbox(token)


def _error(error: AppError) -> JSONResponse:
    return JSONResponse({"detail": error.message}, error.status_code, headers=error.headers)


class SandboxRoutingMiddleware:
    def __init__(self, app: ASGIApp, hub: SandboxHub) -> None:
        self.app = app
        self.hub = hub

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sandbox_id = None
        for name, value in scope["headers"]:
            if name == HEADER:
                sandbox_id = value.decode("latin-1")  # the server has stripped the blanks around it
                break
        if sandbox_id is None and scope["path"] == MCP_PATH:
            sandbox_id = _credential_sandbox(Headers(scope=scope))
        if sandbox_id is None or sandbox_id == DEFAULT_SANDBOX:
            # The default sandbox: no context (the app's own engine serves).
            await self.app(scope, receive, send)
            return
        if not is_sandbox_id(sandbox_id):
            await _error(MalformedSandboxId())(scope, receive, send)
            return
        gated = not scope["path"].startswith(UNGATED_PREFIX)
        found = self.hub.cached(sandbox_id)
        if found is not None:  # the hot path: one look-up, no query, no wait
            context, gate = found
            if not gated:
                await self._serve(context, scope, receive, send)
            elif gate.try_enter():
                try:
                    await self._serve(context, scope, receive, send)
                finally:
                    gate.leave()
            else:  # a restore is running: wait, then take the engine it leaves
                await self._cold(sandbox_id, gated, scope, receive, send)
            return
        await self._cold(sandbox_id, gated, scope, receive, send)

    async def _cold(
        self, sandbox_id: str, gated: bool, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """A sandbox this process has not opened lately, or whose gate is closed: read its
        registry row, pass its gate, then open its database (inside the gate, so never while a
        restore replaces it)."""
        try:
            gate = await anyio.to_thread.run_sync(self.hub.lookup, sandbox_id)
            if gated:
                await gate.enter(GATE_TIMEOUT_SECONDS)
        except AppError as error:
            await _error(error)(scope, receive, send)
            return
        except GateTimeout:
            await _error(SandboxBusy())(scope, receive, send)
            return
        try:
            engine = await anyio.to_thread.run_sync(self.hub.open_engine, sandbox_id)
            await self._serve(SandboxContext(sandbox_id, engine), scope, receive, send)
        finally:
            if gated:
                gate.leave()

    async def _serve(
        self, context: SandboxContext, scope: Scope, receive: Receive, send: Send
    ) -> None:
        token = enter_sandbox(context)
        try:
            await self.app(scope, receive, send)
        finally:
            leave_sandbox(token)
