"""The application factory: settings, database, routers and the one error handler."""

from __future__ import annotations

import logging
import math
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.to_thread
from fastapi import Depends, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Route

from app.api import openapi
from app.api.deps import require_roles
from app.api.methods import method_not_allowed
from app.api.routes import (
    accounts,
    admin,
    api_keys,
    auth,
    card_payments,
    clock,
    customer_directory,
    customers,
    docs,
    funding,
    personas,
    portfolio,
    reference,
    root,
    standing_orders,
    transfers,
)
from app.api.routes import sandboxes as sandboxes_routes
from app.api.sandbox_routing import SandboxRoutingMiddleware
from app.core.config import Settings, get_settings
from app.core.db import create_db_engine
from app.core.headers import SECURITY_HEADERS, SecurityHeadersMiddleware
from app.core.limits import BodySizeLimitMiddleware
from app.core.logs import configure_logging
from app.errors import AppError
from app.mcp.auth import BankTokenVerifier
from app.mcp.http import MCP_PATH, McpHttpEndpoint
from app.mcp.server import build_mcp_server
from app.models.user import Role
from app.services import sandboxes, startup
from app.services.sandboxes import SandboxHub

logger = logging.getLogger("app")

DESCRIPTION = """
A sandbox bank for developers and AI agents: customers, accounts, money and portfolios.

1. `POST /customers/register` to get a login and a first account (keep the password it returns).
2. **Authorize** (top right) with that username and password, or `POST /auth/logon`.
3. `POST /accounts/open`, `GET /accounts/overview`, `GET /customers/me`, `GET /portfolio`.
4. Money (an admin funds the sandbox first): `POST /transfers`, `GET /accounts/{iban}/transactions`.
   Send an `Idempotency-Key` header to make a retried `POST` safe.

Analysts and agents read any customer's whole picture at `GET /user-portfolio/{customer_oid}`.

Amounts are exact decimal strings such as `"25000.00"`. Errors are `{"detail": ...}`.
"""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    hub: SandboxHub = app.state.sandboxes
    settings: Settings = app.state.settings
    # The threads that run the blocking steps of requests (their database work), at most.
    anyio.to_thread.current_default_thread_limiter().total_tokens = settings.thread_count
    try:
        startup.prepare_database(engine=app.state.engine, settings=settings)
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(_sweep_expired_sandboxes, hub)
            tasks.start_soon(_catch_up_clocks, hub, app.state.engine)
            mcp_http: McpHttpEndpoint | None = app.state.mcp_http
            if mcp_http is None:
                yield
            else:
                # The MCP endpoint's session manager starts and stops with the app.
                async with mcp_http.running():
                    yield
            tasks.cancel_scope.cancel()
    finally:
        hub.dispose()
        app.state.engine.dispose()


async def _sweep_expired_sandboxes(hub: SandboxHub) -> None:
    """Remove expired sandboxes every SANDBOX_SWEEP_SECONDS, for as long as the app runs."""
    while True:
        try:
            await anyio.to_thread.run_sync(lambda: sandboxes.remove_expired(hub=hub))
        except Exception:  # a database that is down now may be back next time
            logger.exception("removing expired sandboxes failed")
        await anyio.sleep(hub.settings.sandbox_sweep_seconds)


async def _catch_up_clocks(hub: SandboxHub, default: Engine) -> None:
    """Every CLOCK_TICK_SECONDS, run what fell due as the sandboxes' clocks flowed."""
    while True:
        await anyio.sleep(hub.settings.clock_tick_seconds)
        try:
            await anyio.to_thread.run_sync(
                lambda: sandboxes.catch_up_clocks(hub=hub, default=default)
            )
        except Exception:  # a database that is down now may be back next time
            logger.exception("running what fell due failed")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    settings.check_admin_password()
    # Resolve the signing key once (from the environment or the local key file).
    settings = settings.model_copy(update={"secret_key": settings.resolve_secret_key()})

    app = _new_app(settings)
    app.state.settings = settings
    app.state.engine = create_db_engine(settings)
    app.state.sandboxes = SandboxHub(settings=settings, registry=app.state.engine)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    # Every request works in the sandbox its OpenBank-Sandbox header names.
    app.add_middleware(SandboxRoutingMiddleware, hub=app.state.sandboxes)
    # Added last, so it is the outermost: its headers are on the 413 above as on every other
    # response (the 500 handler below adds them to the one response sent outside it).
    app.add_middleware(SecurityHeadersMiddleware)
    _add_exception_handlers(app)

    # The busiest routers first: FastAPI tries the routes in order (openapi.TAGS keeps the
    # document's order for readers).
    app.include_router(root.router)
    app.include_router(accounts.router)
    app.include_router(transfers.router)
    app.include_router(standing_orders.router)
    app.include_router(portfolio.router)
    app.include_router(auth.router)
    app.include_router(api_keys.router)
    app.include_router(customers.router)
    app.include_router(customer_directory.router)
    app.include_router(reference.router)
    app.include_router(sandboxes_routes.router)
    app.include_router(clock.router)
    app.include_router(card_payments.router)
    app.include_router(personas.router)
    app.include_router(admin.router, dependencies=[Depends(require_roles(Role.admin))])
    app.include_router(funding.router, dependencies=[Depends(require_roles(Role.admin))])
    app.state.mcp_server = app.state.mcp_http = None
    if settings.mcp_enabled:
        _add_mcp(app, settings)
    openapi.install(app)
    return app


def _new_app(settings: Settings) -> FastAPI:
    options: dict[str, Any] = {
        "title": settings.project_name,
        "version": settings.version,
        "description": DESCRIPTION,
        "openapi_tags": openapi.TAGS,
        "lifespan": lifespan,
    }
    if not settings.serves_docs:
        # No Swagger UI, no ReDoc and no schema: 404 like any unknown path.
        return FastAPI(docs_url=None, redoc_url=None, openapi_url=None, **options)
    # Swagger UI and ReDoc are served from this server's own files, not a CDN: the sandbox's
    # docs work offline and behind firewalls (app/api/routes/docs.py).
    app = FastAPI(docs_url=None, redoc_url=None, **options)
    docs.add_docs(app)
    return app


def _add_mcp(app: FastAPI, settings: Settings) -> None:
    """The MCP server at `/mcp`: streamable HTTP, analyst and admin tokens only."""
    engine = app.state.engine
    server = build_mcp_server(
        engine=engine,
        settings=settings,
        token_verifier=BankTokenVerifier(engine=engine, settings=settings),
    )
    endpoint = McpHttpEndpoint(server, settings)
    app.state.mcp_server, app.state.mcp_http = server, endpoint
    # A route, not a mount: a mount would redirect `/mcp` to `/mcp/`. POST only: a stateless
    # server has nothing to push on a GET stream (the spec's answer for that is 405), and no
    # session to DELETE.
    app.router.routes.append(
        Route(MCP_PATH, endpoint=endpoint, methods=["POST"], include_in_schema=False)
    )


def _add_exception_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_request: Request, exc: AppError) -> JSONResponse:
        return JSONResponse({"detail": exc.message}, exc.status_code, headers=exc.headers)

    @app.exception_handler(DataError)
    async def _data(_request: Request, exc: DataError) -> JSONResponse:
        # A value the database refuses to store or compare (PostgreSQL: a NUL byte in text,
        # a number out of range) that validation let through: the input is at fault.
        logger.warning("data error reached the handler: %s", type(exc.orig).__name__)
        return JSONResponse({"detail": "A value in the request cannot be stored"}, 422)

    @app.exception_handler(IntegrityError)
    async def _integrity(_request: Request, exc: IntegrityError) -> JSONResponse:
        logger.warning("integrity error reached the handler: %s", type(exc.orig).__name__)
        return JSONResponse({"detail": "The request conflicts with existing data"}, 409)

    @app.exception_handler(OperationalError)
    async def _db_down(_request: Request, exc: OperationalError) -> JSONResponse:
        logger.error("database error: %s", type(exc.orig).__name__)
        return JSONResponse({"detail": "Database unavailable, try again later"}, 503)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own handler echoes the input, which can hold what JSON output cannot:
        # NaN or Infinity (Python's json reads them) or a lone surrogate ("\ud800"). It then
        # fails to render and the client gets a 500. It would also echo secrets.
        content_type = request.headers.get("content-type")
        form = (content_type or "").lower().startswith(_FORM_TYPES)
        errors = [
            _with_human_message(_without_secrets(error, form_body=form), content_type)
            for error in exc.errors()
        ]
        return JSONResponse({"detail": _json_safe(jsonable_encoder(errors))}, 422)

    @app.exception_handler(PoolTimeoutError)
    async def _pool_exhausted(_request: Request, _exc: PoolTimeoutError) -> JSONResponse:
        # Every connection of this process's pool stayed busy for DB_POOL_TIMEOUT seconds.
        logger.error("no database connection free within the pool timeout")
        return JSONResponse(
            {"detail": "Database busy, try again later"}, 503, headers={"Retry-After": "1"}
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 405:
            return method_not_allowed(request, exc.headers)
        return JSONResponse({"detail": exc.detail}, exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error")
        # Sent by Starlette's outermost middleware, outside SecurityHeadersMiddleware.
        return JSONResponse({"detail": "Internal server error"}, 500, headers=SECURITY_HEADERS)


# Field names whose values are never echoed in a validation error: passwords, refresh tokens,
# API keys, Idempotency-Keys, client secrets and the like.
_SECRET_NAME = re.compile(
    r"pass(word|wd|phrase)|secret|key|token|credential|authori[sz]ation|cookie", re.IGNORECASE
)
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
REDACTED = "[redacted]"


def _without_secrets(error: dict[str, Any], *, form_body: bool) -> dict[str, Any]:
    """A validation error as the client may see it: its location, type and message always, its
    input only when that cannot be a secret.

    The input is left out for a secret-named field, for any field of a form body (the logon
    form: username and password), and for a whole body that is a bare string (a token sent
    without its object). Where the input is an object (a missing field's error shows the whole
    body), its secret-named members are replaced by "[redacted]".
    """
    if "input" not in error:
        return error
    loc = tuple(error.get("loc", ()))
    value = error["input"]
    if (
        any(isinstance(part, str) and _SECRET_NAME.search(part) for part in loc)
        or (form_body and loc[:1] == ("body",))
        or (len(loc) <= 1 and isinstance(value, str | bytes))
    ):
        return {name: item for name, item in error.items() if name != "input"}
    return {**error, "input": _redact(value)}


_JSON_HINT = "send a JSON object with the header Content-Type: application/json"
# The errors Pydantic reports for a whole body that is not an object (or absent).
_NOT_AN_OBJECT = {"model_attributes_type", "model_type", "dict_type", "missing"}


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


def _with_human_message(error: dict[str, Any], content_type: str | None) -> dict[str, Any]:
    """The error with a one-line `msg` a person understands where Pydantic's speaks of parser
    internals: a body that is not valid JSON ("JSON decode error"), and a body that is absent or
    was not sent as JSON, most often for want of a Content-Type header ("Input should be a valid
    dictionary or object to extract fields from"). Its `loc` and `type` stay as they are."""
    kind, loc = error.get("type"), tuple(error.get("loc", ()))
    if kind == "json_invalid":
        reason = str((error.get("ctx") or {}).get("error") or "").strip()
        where = f" at character {loc[1]}" if len(loc) > 1 and isinstance(loc[1], int) else ""
        because = f" ({reason}{where})" if reason else where
        message = f"The request body is not valid JSON{because}: check quotes, commas and braces"
        return {**error, "msg": message}
    if loc != ("body",) or kind not in _NOT_AN_OBJECT:
        return error
    if not content_type:
        message = (
            "The request body is required"
            if kind == "missing"
            else "The request has no Content-Type header"
        )
        return {**error, "msg": f"{message}: {_JSON_HINT}"}
    if not _is_json(content_type):
        media_type = content_type.split(";", 1)[0].strip()[:100]
        return {**error, "msg": f"The request body was sent as {media_type!r}: {_JSON_HINT}"}
    if kind == "missing":
        return {**error, "msg": f"The request body is empty: {_JSON_HINT}"}
    return {
        **error,
        "msg": "The request body must be a JSON object ({...}), not an array or a value",
    }


def _redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            name: REDACTED if isinstance(name, str) and _SECRET_NAME.search(name) else _redact(item)
            for name, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_redact(item) for item in value]
    return value


def _json_safe(value: Any) -> Any:
    """`value` with non-finite floats as strings and unencodable characters replaced."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {_json_safe(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(item) for item in value]
    return value


def __getattr__(name: str) -> FastAPI:
    # `uvicorn app.main:app` builds the app on first access, so importing this module in tests
    # (which call create_app with their own settings) touches no database and no key file.
    if name == "app":
        application = create_app()
        globals()["app"] = application
        return application
    raise AttributeError(name)
