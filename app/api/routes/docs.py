"""Swagger UI at `/docs` and ReDoc at `/redoc`, served whole from this server: no CDN at all.

The JavaScript and CSS bundles are the ones the `fastapi-offline` package ships (its `static`
folder, mounted at `STATIC_URL`), so they install with the app and are upgraded with it. Two
things in those pages would still reach out to the internet, and are turned off here:

- ReDoc's bundle shows the Redocly logo from `cdn.redoc.ly` at the foot of its menu: the bundle
  is served from a route of ours with that address replaced by a small inline image;
- Swagger UI checks a schema at a non-local address against `validator.swagger.io` and shows
  the verdict as a badge: `validatorUrl` is null.

Not added at all when the docs are off (`serves_docs`), and never in the OpenAPI schema.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

DOCS_URL = "/docs"
REDOC_URL = "/redoc"
STATIC_URL = "/static-offline-docs"
ASSETS = Path(fastapi_offline.__file__).parent / "static"

REDOC_JS = "redoc.standalone.js"
REDOCLY_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"
# The same place in the menu's foot, drawn inline: a rounded square with two text lines.
INLINE_LOGO = (
    b"data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E"
    b"%3Crect x='1' y='1' width='14' height='14' rx='3' fill='%2332329f'/%3E"
    b"%3Cpath d='M4 6h8M4 10h6' stroke='white' stroke-width='1.5'/%3E%3C/svg%3E"
)
SWAGGER_UI_PARAMETERS = {"persistAuthorization": True, "validatorUrl": None}


@cache
def redoc_bundle() -> bytes:
    """ReDoc's bundle with the logo's CDN address replaced (read once per process)."""
    return (ASSETS / REDOC_JS).read_bytes().replace(REDOCLY_LOGO, INLINE_LOGO)


def add_docs(app: FastAPI) -> None:
    """The docs pages and their assets; the app is made with docs_url=None and redoc_url=None."""
    assert app.openapi_url is not None
    openapi_url = app.openapi_url
    oauth2_redirect_url = app.swagger_ui_oauth2_redirect_url

    def static(request: Request, name: str) -> str:
        return f"{request.scope.get('root_path', '')}{STATIC_URL}/{name}"

    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=oauth2_redirect_url,
            swagger_js_url=static(request, "swagger-ui-bundle.js"),
            swagger_css_url=static(request, "swagger-ui.css"),
            swagger_favicon_url=static(request, "favicon.png"),
            swagger_ui_parameters=SWAGGER_UI_PARAMETERS,
        )

    if oauth2_redirect_url:

        @app.get(oauth2_redirect_url, include_in_schema=False)
        async def swagger_ui_redirect() -> HTMLResponse:
            return get_swagger_ui_oauth2_redirect_html()

    @app.get(REDOC_URL, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} - ReDoc",
            redoc_js_url=static(request, REDOC_JS),
            redoc_favicon_url=static(request, "favicon.png"),
            with_google_fonts=False,
        )

    # A route before the mount, so it answers for this one file of the mounted folder.
    @app.get(f"{STATIC_URL}/{REDOC_JS}", include_in_schema=False)
    async def redoc_js() -> Response:
        return Response(
            redoc_bundle(),
            media_type="text/javascript; charset=utf-8",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    app.mount(STATIC_URL, StaticFiles(directory=ASSETS), name="static-offline-docs")
