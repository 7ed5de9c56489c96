"""GET /: JSON for programs, a small HTML page for a browser, both with only the served links."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from app.api.routes.root import wants_html

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"
LANDING_JSON = {
    "message": "Welcome to OpenBank API, a sandbox bank for developers and agents",
    "version": "0.1.0",
    "docs": "/docs",
    "redoc": "/redoc",
    "health": "/health",
}


def hrefs(html: str) -> list[str]:
    return re.findall(r'href="([^"]+)"', html)


@pytest.mark.parametrize(
    "headers", [{}, {"accept": "application/json"}, {"accept": "*/*"}, {"accept": ""}]
)
def test_json_clients_keep_the_json_answer(client: TestClient, headers: dict[str, str]) -> None:
    response = client.get("/", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["vary"] == "Accept"
    assert response.json() == LANDING_JSON


def test_a_browser_gets_a_page_with_working_links(client: TestClient) -> None:
    response = client.get("/", headers={"accept": BROWSER})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["vary"] == "Accept"
    assert response.headers["x-frame-options"] == "DENY"  # the security headers still apply
    assert response.headers["x-content-type-options"] == "nosniff"
    html = response.text
    assert html.startswith("<!DOCTYPE html>")
    assert "<title>OpenBank API</title>" in html
    links = hrefs(html)
    assert {"/docs", "/redoc", "/openapi.json", "/health"} <= set(links)
    for heading in ("Quick start", "Sample data", "Portfolio-analysis API", "MCP server"):
        assert f"<h2>{heading}" in html
    for link in links:
        assert link.startswith("/"), link  # nothing off this server
        path = link.split("#", 1)[0]
        assert client.get(path).status_code == 200, link


def test_with_the_docs_off_the_page_links_only_what_is_served(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(environment="production")
    html = client.get("/", headers={"accept": "text/html"}).text
    links = hrefs(html)
    assert links == ["/health"]
    assert "/docs" not in html.replace("DOCS_ENABLED", "")
    assert "/redoc" not in html
    assert "The interactive docs are off on this server" in html
    assert client.get("/").json()["docs"] is None


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        (BROWSER, True),
        ("text/html", True),
        ("TEXT/HTML; q=0.5, application/json; q=0.5", True),
        ("application/json, text/html;q=0.9", False),
        ("text/html;q=0", False),
        ("text/html;q=oops", False),
        ("application/json", False),
        ("*/*", False),
        ("", False),
        (";;;,,,=;q", False),
    ],
)
def test_wants_html(accept: str, html: bool) -> None:
    assert wants_html(accept) is html


def test_a_malformed_accept_header_is_no_error(client: TestClient) -> None:
    response = client.get("/", headers={"accept": "text/html;q=1e999999, ;;;q=="})
    assert response.status_code == 200
