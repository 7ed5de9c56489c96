"""405 and OPTIONS answers that list every method a path supports.

Starlette answers 405 from the first route whose path matches, so its `Allow` names only that
route's methods (`POST` for `/transfers`, which also has a `GET`). These look at every route.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from app.api.openapi import flat_routes


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at the request's path, sorted."""
    methods: set[str] = set()
    path = request.scope["path"]
    for route in flat_routes(request.app.router.routes):
        route_methods = getattr(route, "methods", None)
        path_regex = getattr(route, "path_regex", None)
        if route_methods and path_regex is not None and path_regex.match(path):
            methods |= set(route_methods)
    return sorted(methods)


def method_not_allowed(request: Request, headers: Mapping[str, str] | None = None) -> Response:
    """204 with `Allow` for an OPTIONS request, else 405 `{"detail": ...}` with `Allow`."""
    allow = ", ".join(allowed_methods(request))
    if request.method == "OPTIONS":
        return Response(status_code=204, headers={"Allow": allow})
    return JSONResponse(
        {"detail": "Method Not Allowed"}, 405, headers={**(headers or {}), "Allow": allow}
    )
