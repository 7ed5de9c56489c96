from __future__ import annotations

from functools import partial
from html import escape

from fastapi import Request, Response, status
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from app.api.deps import EngineDep, SandboxHubDep, SettingsDep
from app.api.routing import api_router, in_worker_thread
from app.core.config import Settings
from app.schemas.health import HealthResponse, Landing
from app.services import health

router = api_router(tags=["health"])

# The answer to "/" depends on the Accept header: caches must keep the two apart.
VARY = {"Vary": "Accept"}


@router.get(
    "/",
    response_model=Landing,
    summary="Landing page with links to the docs (null when they are off)",
    description="JSON by default; a browser (`Accept: text/html`) gets the same links as a "
    "small HTML page with the README's first steps.",
    responses={200: {"content": {"text/html": {"schema": {"type": "string"}}}}},
)
async def landing(
    request: Request, settings: SettingsDep, response: Response
) -> Landing | Response:
    page = Landing(
        message=f"Welcome to {settings.project_name}, a sandbox bank for developers and agents",
        version=settings.version,
        docs="/docs" if settings.serves_docs else None,
        redoc="/redoc" if settings.serves_docs else None,
        health="/health",
    )
    if wants_html(request.headers.get("accept", "")):
        return HTMLResponse(landing_html(page, settings), headers=VARY)
    response.headers.update(VARY)
    return page


def wants_html(accept: str) -> bool:
    """Whether an Accept header prefers HTML to JSON: `text/html` listed with a quality above
    zero and at least that of `application/json` (a browser's header; curl's `*/*` is JSON)."""
    quality: dict[str, float] = {}
    for item in accept.split(",")[:50]:
        media_type, *params = (part.strip() for part in item.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        quality.setdefault(media_type.lower(), q)
    html = quality.get("text/html", 0.0)
    return html > 0 and html >= quality.get("application/json", 0.0)


def _link(href: str, text: str) -> str:
    return f'<a href="{escape(href)}">{escape(text)}</a>'


def landing_html(page: Landing, settings: Settings) -> str:
    """The landing page for a person: where the docs are, and the README's first steps."""
    title = escape(settings.project_name)
    links = []
    if page.docs:
        links.append(f"<li>{_link(page.docs, 'Swagger UI')}: try every endpoint (Authorize)</li>")
    if page.redoc:
        links.append(f"<li>{_link(page.redoc, 'ReDoc')}: the API reference</li>")
    if page.docs:
        links.append(f"<li>{_link('/openapi.json', 'OpenAPI schema')} (JSON)</li>")
    links.append(f"<li>{_link(page.health, 'Health')}: service and database status</li>")
    if page.docs is None:
        links.append("<li>The interactive docs are off on this server (DOCS_ENABLED).</li>")

    def tag(name: str) -> str:  # a section of Swagger UI, when it is served
        return f" ({_link(f'/docs#/{name}', 'in Swagger UI')})" if page.docs else ""

    sections = [
        (
            "Quick start",
            "<code>POST /customers/register</code> returns a login and a first account; log on "
            "with <code>POST /auth/logon</code> (or Swagger UI's Authorize button), then "
            "<code>POST /accounts/open</code>, <code>GET /accounts/overview</code>, "
            f"<code>GET /portfolio</code>{tag('customers')}.",
        ),
        (
            "Money movement",
            "Transfers with an <code>Idempotency-Key</code>, deposits by an admin, statements "
            f"in JSON and CSV; amounts are exact decimal strings{tag('transfers')}.",
        ),
        (
            "Sample data",
            "<code>uv run python seed.py</code> adds the sample customers (John Doe and four "
            "more), a demo admin and a demo analyst.",
        ),
        (
            "Portfolio-analysis API (compatible with the Dummy Bank API)",
            "<code>GET /user-portfolio/{customer_oid}</code>: holdings, accounts, transactions, "
            "spending, derivatives and a summary in the customer's reporting currency"
            f"{tag('portfolio')}.",
        ),
        (
            "MCP server (for AI agents)",
            "The same data as read-only tools at <code>POST /mcp</code> (analyst and admin "
            "tokens or API keys) and over stdio: <code>uv run python -m app.mcp</code>.",
        ),
    ]
    body = "\n".join(
        f"<section><h2>{escape(heading)}</h2><p>{text}</p></section>" for heading, text in sections
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 46rem; margin: 2rem auto;
        padding: 0 1rem; line-height: 1.5; color: #1f2328; }}
code {{ background: #f3f4f6; padding: 0 .25rem; border-radius: 3px; }}
h2 {{ font-size: 1.1rem; margin-bottom: .25rem; }}
footer {{ margin-top: 2rem; color: #57606a; font-size: .9rem; }}
</style>
</head>
<body>
<h1>{title} <small>{escape(page.version)}</small></h1>
<p>{escape(page.message)}.</p>
<ul>
{chr(10).join(links)}
</ul>
<p>The README's sections, in short:</p>
{body}
<footer>Clients that ask for JSON (or send no Accept header) get these links as JSON.</footer>
</body>
</html>
"""


@router.get(
    "/health",
    summary="Service and database status",
    responses={503: {"model": HealthResponse, "description": "Database unreachable"}},
)
async def get_health(
    engine: EngineDep, settings: SettingsDep, hub: SandboxHubDep, response: Response
) -> HealthResponse:
    def check(session: Session) -> HealthResponse:
        return health.status(
            session=session, settings=settings, live_sandboxes=partial(hub.live_count, session)
        )

    result = await in_worker_thread(engine, check)
    if result.status != "ok":
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return result
