"""The OpenAPI document tells the truth about errors and credentials.

Each route's error statuses are derived from what it depends on, not listed by hand: a
dependency (or a route) marked with `raises(...)` adds the statuses of the errors it raises,
request parameters add 422, a body adds 400 (unparsable), 413 (too large) and 422, a path
parameter adds 404, and the sandbox header that every operation takes adds 400 and 404.
`install(app)` writes them into the document with the one `Error` schema; what a route
documents itself (`responses=`) is kept.

Likewise a dependency marked with `authenticated_by(...)` reads the `Authorization` header
itself and gives the operations that depend on it their `security` (the ways Swagger UI's
Authorize offers): FastAPI's security dependencies would document the same, at the price of
solving two more dependencies on every request.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security.base import SecurityBase
from starlette.routing import BaseRoute

from app.core.sandbox_context import DEFAULT_SANDBOX, SANDBOX_HEADER, SANDBOX_HEADER_PATTERN
from app.errors import AppError, MalformedSandboxId, SandboxNotFound
from app.schemas.errors import DESCRIPTIONS, Error

try:
    from fastapi.routing import iter_route_contexts
except ImportError:  # pragma: no cover - older FastAPI
    iter_route_contexts = None  # type: ignore[assignment]

F = TypeVar("F", bound=Callable[..., Any])

# The document's tags in the order a reader meets them (Swagger UI and ReDoc follow this list):
# the routers are included in the order of their traffic instead, since a request is matched
# against the routes one by one.
TAGS: list[dict[str, str]] = [
    {"name": "health", "description": "Liveness and the service's own links"},
    {"name": "auth", "description": "Logon, token refresh and logout; API keys"},
    {"name": "customers", "description": "Registration and the caller's own profile"},
    {"name": "accounts", "description": "Opening accounts, the overview and statements"},
    {
        "name": "customer directory",
        "description": "Customers by CustomerOID, for staff: list, register, delete",
    },
    {"name": "portfolio", "description": "A customer's accounts, holdings and history"},
    {"name": "transfers", "description": "Money between accounts, through the ledger"},
    {
        "name": "standing orders",
        "description": "Weekly and monthly payments, run by the sandbox's clock",
    },
    {"name": "reference data", "description": "Countries and currencies"},
    {"name": "sandboxes", "description": "Banks of your own: create, snapshot, restore, fork"},
    {"name": "clock", "description": "The sandbox's time: read it; admins advance and freeze it"},
    {
        "name": "card payments",
        "description": "Simulated card payments (admins): held at once, booked when they settle",
    },
    {
        "name": "personas",
        "description": "Lives for customers (admins): income, bills and spending as time passes",
    },
    {"name": "admin", "description": "Reference data, FX rates and funding (admins)"},
]

_MARK = "__openapi_raises__"
_SECURITY = "__openapi_security__"
ERROR_REF = {"$ref": "#/components/schemas/Error"}


def raises(*errors: type[AppError] | int) -> Callable[[F], F]:
    """Mark a dependency or a route as raising these errors (classes or bare status codes)."""

    def mark(function: F) -> F:
        codes = {error if isinstance(error, int) else error.status_code for error in errors}
        setattr(function, _MARK, frozenset(codes) | getattr(function, _MARK, frozenset()))
        return function

    return mark


@dataclass(frozen=True)
class Security:
    """The ways to send a credential, and whether one is needed."""

    schemes: tuple[SecurityBase, ...]
    optional: bool


def authenticated_by(*schemes: SecurityBase, optional: bool = False) -> Callable[[F], F]:
    """Mark a dependency as reading a credential sent in one of these ways (`optional`: a
    request without one is served too)."""

    def mark(function: F) -> F:
        setattr(function, _SECURITY, Security(schemes, optional))
        return function

    return mark


def _security_marks(route: Any) -> list[Security]:
    return [
        mark
        for dependant in _dependants(route.dependant)
        if (mark := getattr(dependant.call, _SECURITY, None)) is not None
    ]


def security(marks: list[Security]) -> list[dict[str, list[str]]] | None:
    """The `security` of an operation whose dependencies carry `marks`: optional only when no
    dependency needs a credential."""
    if not marks:
        return None
    names = dict.fromkeys(scheme.scheme_name for mark in marks for scheme in mark.schemes)
    requirements: list[dict[str, list[str]]] = [{name: []} for name in names]
    if all(mark.optional for mark in marks):
        requirements.insert(0, {})
    return requirements


def flat_routes(routes: Sequence[BaseRoute]) -> Iterator[Any]:
    """Every route of the app, those of included routers with their prefix and dependencies
    (FastAPI 0.16x includes routers lazily; earlier versions copy their routes in)."""
    if iter_route_contexts is None:  # pragma: no cover - older FastAPI
        yield from routes
        return
    yield from iter_route_contexts(routes)


def _is_api_route(route: Any) -> bool:
    return isinstance(getattr(route, "original_route", route), APIRoute)


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def error_statuses(route: Any) -> set[int]:
    """The error statuses `route` can answer with, from its dependency tree."""
    codes: set[int] = set()
    for dependant in _dependants(route.dependant):
        codes |= getattr(dependant.call, _MARK, frozenset())
        if dependant.query_params or dependant.header_params or dependant.cookie_params:
            codes.add(422)
        if dependant.path_params:
            codes |= {404, 422}
        if dependant.body_params:
            codes |= {400, 413, 422}
    return codes


# Every operation takes the sandbox header; the routing middleware acts on it before any route
# (so it is documented here, not read by a dependency on every request).
SANDBOX_PARAMETER = {
    "name": SANDBOX_HEADER,
    "in": "header",
    "required": False,
    "description": "The sandbox (isolated bank) to work in, from POST /sandboxes; without it, "
    "the default sandbox",
    "schema": {
        "type": "string",
        "pattern": SANDBOX_HEADER_PATTERN,
        "default": DEFAULT_SANDBOX,
        "title": SANDBOX_HEADER,
    },
}
SANDBOX_ERRORS = frozenset({MalformedSandboxId.status_code, SandboxNotFound.status_code})


def _error_response(code: int) -> dict[str, Any]:
    return {
        "description": DESCRIPTIONS[code],
        "content": {"application/json": {"schema": ERROR_REF}},
    }


def document_errors(app: FastAPI, schema: dict[str, Any]) -> dict[str, Any]:
    """Add each route's error statuses, its security and the sandbox header to `schema`
    (FastAPI's document of `app`)."""
    schemes: dict[str, Any] = {}
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    error_schema = Error.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(error_schema.pop("$defs", {}))
    components["Error"] = error_schema
    for route in flat_routes(app.routes):
        if not _is_api_route(route) or not route.include_in_schema:
            continue
        codes = error_statuses(route) | SANDBOX_ERRORS
        marks = _security_marks(route)
        requirements = security(marks)
        for scheme in (scheme for mark in marks for scheme in mark.schemes):
            schemes[scheme.scheme_name] = scheme.model.model_dump(
                mode="json", by_alias=True, exclude_none=True
            )
        for method in route.methods:
            operation = schema["paths"][route.path_format].get(method.lower())
            if operation is None:
                continue
            if requirements is not None:
                operation["security"] = requirements
            operation.setdefault("parameters", []).append(SANDBOX_PARAMETER)
            responses = operation.setdefault("responses", {})
            for code in sorted(codes):
                current = responses.get(str(code))
                # FastAPI's default 422 (HTTPValidationError) is not the body this app sends.
                if current is None or _is_fastapi_default(current):
                    responses[str(code)] = _error_response(code)
    if schemes:
        schema["components"]["securitySchemes"] = schemes
    # Left over from FastAPI's default 422 answers, now replaced.
    for name in ("HTTPValidationError", "ValidationError"):
        if name in components and f'"#/components/schemas/{name}"' not in json.dumps(schema):
            del components[name]
    return schema


def _is_fastapi_default(response: dict[str, Any]) -> bool:
    content = response.get("content", {}).get("application/json", {})
    return bool(content.get("schema", {}).get("$ref", "").endswith("/HTTPValidationError"))


def install(app: FastAPI) -> None:
    """Serve the document built above at `/openapi.json` (built once, on first request)."""

    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_errors(app, build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
