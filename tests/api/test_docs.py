"""Swagger UI and ReDoc work offline: every page and asset comes from this server."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from app.api.routes import docs

# src="..." and href="..." in a page, and the spec's address in Swagger UI's set-up script.
REFERENCE = re.compile(r"""(?:src|href|spec-url)\s*=\s*["']([^"']+)["']|url:\s*'([^']+)'""")
CDN_HOSTS = ("cdn.", "unpkg.com", "fonts.googleapis", "fonts.gstatic", "redoc.ly/")


def references(html: str) -> list[str]:
    return [a or b for a, b in REFERENCE.findall(html)]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_pages_reference_only_this_server(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200
    assert "http://" not in response.text
    assert "https://" not in response.text
    found = references(response.text)
    assert found  # the page has its scripts, styles, icon and schema
    for url in found:
        assert url.startswith("/"), url
        assert not url.startswith("//"), url
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert asset.content, url


def test_swagger_ui_loads_its_bundle_and_asks_no_validator(client: TestClient) -> None:
    html = client.get("/docs").text
    assert set(references(html)) >= {
        "/static-offline-docs/swagger-ui-bundle.js",
        "/static-offline-docs/swagger-ui.css",
        "/static-offline-docs/favicon.png",
        "/openapi.json",
    }
    assert '"validatorUrl": null' in html  # no badge from validator.swagger.io


def test_redoc_loads_its_bundle_without_google_fonts(client: TestClient) -> None:
    html = client.get("/redoc").text
    assert set(references(html)) == {
        "/static-offline-docs/redoc.standalone.js",
        "/static-offline-docs/favicon.png",
        "/openapi.json",
    }


def test_the_redoc_bundle_draws_its_logo_inline(client: TestClient) -> None:
    original = (docs.ASSETS / docs.REDOC_JS).read_bytes()
    assert docs.REDOCLY_LOGO in original  # the package's bundle as shipped: the patch has work
    response = client.get("/static-offline-docs/redoc.standalone.js")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert b"cdn.redoc.ly" not in response.content
    assert docs.INLINE_LOGO in response.content
    assert len(response.content) == len(original) - len(docs.REDOCLY_LOGO) + len(docs.INLINE_LOGO)


@pytest.mark.parametrize("asset", ["redoc.standalone.js", "swagger-ui-bundle.js", "swagger-ui.css"])
def test_no_bundle_names_a_cdn_to_load_from(client: TestClient, asset: str) -> None:
    body = client.get(f"/static-offline-docs/{asset}").text
    for host in CDN_HOSTS:
        assert f"https://{host}" not in body, host


def test_the_assets_are_served_with_their_types(client: TestClient) -> None:
    expected = {
        "swagger-ui-bundle.js": "javascript",
        "swagger-ui.css": "text/css",
        "favicon.png": "image/png",
    }
    for name, kind in expected.items():
        response = client.get(f"/static-offline-docs/{name}")
        assert response.status_code == 200, name
        assert kind in response.headers["content-type"], name
    assert client.get("/static-offline-docs/no-such-file.js").status_code == 404
    paths = client.get("/openapi.json").json()["paths"]
    assert not [path for path in paths if "docs" in path or "redoc" in path]
