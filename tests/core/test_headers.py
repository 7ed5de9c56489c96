"""Security headers on every response: the middleware on its own, then the app's responses of
every kind (success, errors, 413, 500, docs, static files, CSV, MCP)."""

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.core.headers import SECURITY_HEADERS, SecurityHeadersMiddleware
from app.main import create_app
from tests.utils.auth import AuthedUser
from tests.utils.mcp import MCP_HEADERS, initialize_body

EXPECTED = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def assert_secured(response: Any) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get_list(name) == [value], (name, response.url)


# The middleware on its own


def run(scope: dict[str, Any], app: Any) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(SecurityHeadersMiddleware(app)(scope, receive, send))  # type: ignore[arg-type]
    return sent


async def plain_app(scope: Any, receive: Any, send: Any) -> None:
    headers = [(b"content-type", b"text/plain")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"hi"})


def test_the_headers_are_appended_to_the_response_start_only() -> None:
    start, body = run({"type": "http", "path": "/"}, plain_app)
    assert start["headers"] == [
        (b"content-type", b"text/plain"),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"no-referrer"),
    ]
    assert body == {"type": "http.response.body", "body": b"hi"}
    assert SECURITY_HEADERS == {
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
    }


def test_a_start_without_headers_gets_them_too() -> None:
    async def bare(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 204})

    (start,) = run({"type": "http"}, bare)
    assert dict(start["headers"]) == {k.encode(): v.encode() for k, v in EXPECTED.items()}


def test_other_scopes_pass_straight_through() -> None:
    seen: list[str] = []

    async def lifespan_app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])
        await send({"type": "lifespan.startup.complete"})

    assert run({"type": "lifespan"}, lifespan_app) == [{"type": "lifespan.startup.complete"}]
    assert seen == ["lifespan"]


# Every kind of response of the app


def test_successes_and_errors_carry_the_headers(
    client: TestClient, customer: AuthedUser, admin_headers: dict[str, str]
) -> None:
    responses = [
        client.get("/"),
        client.get("/health"),
        client.get("/accounts/overview", headers=customer.headers),  # 200
        client.get("/no/such/path"),  # 404
        client.delete("/health"),  # 405
        client.get("/accounts/overview"),  # 401
        client.get("/admin/countries", headers=customer.headers),  # 403
        client.post("/transfers", json={}, headers=customer.headers),  # 422
        client.get("/accounts/NL00XXXX", headers=customer.headers),  # 400
        client.get(
            f"/accounts/{customer.iban}/transactions",
            params={"format": "csv"},
            headers=customer.headers,
        ),  # a stream
        client.post(
            f"/admin/accounts/{customer.iban}/deposit",
            json={"amount": "1.00"},
            headers=admin_headers,
        ),  # 201
    ]
    assert [r.status_code for r in responses] == [
        200, 200, 200, 404, 405, 401, 403, 422, 400, 200, 201
    ]  # fmt: skip
    for response in responses:
        assert_secured(response)


def test_the_docs_carry_the_headers_and_still_load(client: TestClient) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "swagger-ui-bundle.js" in docs.text
    for path in ("/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_secured(response)
    # nosniff: scripts and styles must come with their own types, or a browser refuses them.
    script = client.get("/static-offline-docs/swagger-ui-bundle.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert_secured(script)
    style = client.get("/static-offline-docs/swagger-ui.css")
    assert style.headers["content-type"].startswith("text/css")
    assert_secured(style)


def test_mcp_responses_carry_the_headers(
    client: TestClient, analyst_headers: dict[str, str]
) -> None:
    refused = client.post("/mcp", json=initialize_body(), headers=MCP_HEADERS)
    assert refused.status_code == 401
    assert_secured(refused)
    answered = client.post(
        "/mcp", json=initialize_body(), headers={**MCP_HEADERS, **analyst_headers}
    )
    assert answered.status_code == 200
    assert_secured(answered)


def test_a_body_over_the_limit_and_a_crash_carry_the_headers(
    settings: Settings, make_client: Callable[..., TestClient]
) -> None:
    small = make_client(max_body_bytes=1024)
    too_large = small.post("/customers/register", content=b"x" * 2048)
    assert too_large.status_code == 413
    assert_secured(too_large)

    application = create_app(settings)

    @application.get("/_test/boom")
    def boom() -> None:
        raise RuntimeError("boom")

    with TestClient(application, raise_server_exceptions=False) as crashing:
        crashed = crashing.get("/_test/boom")
    assert crashed.status_code == 500
    assert crashed.json() == {"detail": "Internal server error"}
    assert_secured(crashed)


@pytest.mark.parametrize("path", ["/", "/health"])
def test_headers_are_not_repeated(client: TestClient, path: str) -> None:
    response = client.get(path)
    names = [name.lower() for name, _ in response.headers.multi_items()]
    for name in EXPECTED:
        assert names.count(name) == 1
