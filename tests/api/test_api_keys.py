"""API keys: made by any logged-on user for themselves, shown once, stored as a hash, working
wherever an access token does (REST and /mcp) with the owner's role, until revoked or expired or
the owner is gone."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import text, update
from sqlalchemy.engine import Engine
from sqlmodel import select

from app.core.db import new_session
from app.models.api_key import ApiKey
from app.services.api_keys import MAX_KEYS_PER_USER
from tests.mcp.test_http import post_mcp
from tests.utils.auth import AuthedUser, bearer
from tests.utils.mcp import McpCaller

KEY = re.compile(r"^obk_[A-Za-z0-9_-]{43,}$")


def create_key(
    client: TestClient, headers: dict[str, str], name: str = "ci", **extra: Any
) -> dict[str, Any]:
    response = client.post("/auth/api-keys", json={"name": name, **extra}, headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def challenge(response: Response) -> str:
    assert response.status_code == 401, response.text
    value: str = response.headers["www-authenticate"]
    assert value.startswith('Bearer error="invalid_token", error_description="')
    return value


def test_a_key_is_shown_once_with_its_details(client: TestClient, customer: AuthedUser) -> None:
    before = datetime.now(UTC)
    response = client.post(
        "/auth/api-keys",
        json={"name": "laptop agent", "expires_in_days": 90},
        headers=customer.headers,
    )
    assert response.status_code == 201
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {
        "id",
        "name",
        "key",
        "prefix",
        "role",
        "created_at",
        "expires_at",
        "last_used_at",
    }
    assert KEY.match(body["key"])
    assert body["prefix"] == body["key"][:12]
    assert (body["name"], body["role"], body["last_used_at"]) == ("laptop agent", "customer", None)
    expires = datetime.fromisoformat(body["expires_at"])
    assert before + timedelta(days=90) <= expires <= datetime.now(UTC) + timedelta(days=90)
    # The list never shows the key again.
    listed = client.get("/auth/api-keys", headers=customer.headers).json()
    assert [k["id"] for k in listed] == [body["id"]]
    assert "key" not in listed[0]
    assert body["key"] not in client.get("/auth/api-keys", headers=customer.headers).text


def test_only_a_hash_of_the_key_is_stored(
    client: TestClient, customer: AuthedUser, engine: Engine
) -> None:
    key = create_key(client, customer.headers)["key"]
    with new_session(engine) as session:
        row = session.exec(select(ApiKey)).one()
        dumped = " ".join(str(v) for v in session.execute(text("SELECT * FROM api_key")).one())
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert row.hash_scheme == "sha256"
    assert key not in dumped
    assert key[12:] not in dumped


def test_no_expiry_when_none_is_asked(client: TestClient, customer: AuthedUser) -> None:
    assert create_key(client, customer.headers, expires_in_days=None)["expires_at"] is None


@pytest.mark.parametrize(
    "body",
    [
        {"name": "ci", "expires_in_days": 366},  # over API_KEY_MAX_DAYS (365)
        {"name": "ci", "expires_in_days": 0},
        {"name": "", "expires_in_days": 1},
        {"name": "   "},
        {"name": "ci\x00"},
        {"name": "x" * 101},
        {},
    ],
)
def test_bad_requests_are_422(client: TestClient, customer: AuthedUser, body: Any) -> None:
    assert client.post("/auth/api-keys", json=body, headers=customer.headers).status_code == 422


def test_making_keys_needs_a_logged_on_user(client: TestClient) -> None:
    assert client.post("/auth/api-keys", json={"name": "ci"}).status_code == 401
    assert client.get("/auth/api-keys").status_code == 401


def test_a_key_works_like_the_owners_token(client: TestClient, customer: AuthedUser) -> None:
    key = create_key(client, customer.headers)["key"]
    me = client.get("/customers/me", headers=bearer(key))
    assert me.status_code == 200
    assert me.json()["customer_oid"] == customer.customer_oid
    assert client.get("/accounts/overview", headers=bearer(key)).status_code == 200
    # With the owner's role: a customer's key is no admin.
    assert client.get("/admin/countries", headers=bearer(key)).status_code == 403
    assert client.get("/customers", headers=bearer(key)).status_code == 403


def test_staff_keys_keep_their_role(
    client: TestClient, admin_headers: dict[str, str], analyst_headers: dict[str, str]
) -> None:
    admin_key = create_key(client, admin_headers)
    analyst_key = create_key(client, analyst_headers)
    assert (admin_key["role"], analyst_key["role"]) == ("admin", "analyst")
    assert client.get("/admin/countries", headers=bearer(admin_key["key"])).status_code == 200
    assert client.get("/customers", headers=bearer(analyst_key["key"])).status_code == 200
    assert client.get("/admin/countries", headers=bearer(analyst_key["key"])).status_code == 403


def test_use_is_recorded(client: TestClient, customer: AuthedUser) -> None:
    key = create_key(client, customer.headers)
    assert client.get("/customers/me", headers=bearer(key["key"])).status_code == 200
    (listed,) = client.get("/auth/api-keys", headers=customer.headers).json()
    assert listed["last_used_at"] is not None


def test_a_revoked_key_stops_at_once(client: TestClient, customer: AuthedUser) -> None:
    key = create_key(client, customer.headers)
    assert client.get("/customers/me", headers=bearer(key["key"])).status_code == 200
    response = client.delete(f"/auth/api-keys/{key['id']}", headers=customer.headers)
    assert response.status_code == 204
    refused = client.get("/customers/me", headers=bearer(key["key"]))
    assert "revoked" in challenge(refused)
    assert refused.json() == {"detail": "Invalid or expired token"}
    assert client.get("/auth/api-keys", headers=customer.headers).json() == []
    again = client.delete(f"/auth/api-keys/{key['id']}", headers=customer.headers)
    assert again.status_code == 404


def test_another_users_key_cannot_be_revoked(
    client: TestClient, customer: AuthedUser, other_customer: AuthedUser
) -> None:
    key = create_key(client, customer.headers)
    response = client.delete(f"/auth/api-keys/{key['id']}", headers=other_customer.headers)
    assert response.status_code == 404
    assert response.json() == {"detail": "API key not found"}
    assert client.get("/customers/me", headers=bearer(key["key"])).status_code == 200


@pytest.mark.parametrize("key_id", ["0", "-1", "abc", "9223372036854775808"])
def test_malformed_key_ids_are_422(client: TestClient, customer: AuthedUser, key_id: str) -> None:
    response = client.delete(f"/auth/api-keys/{key_id}", headers=customer.headers)
    assert response.status_code == 422


def test_an_expired_key_stops(client: TestClient, customer: AuthedUser, engine: Engine) -> None:
    key = create_key(client, customer.headers, expires_in_days=1)
    with new_session(engine) as session:
        session.execute(update(ApiKey).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        session.commit()
    assert "expired" in challenge(client.get("/customers/me", headers=bearer(key["key"])))


def test_a_deleted_owners_key_stops(
    client: TestClient, customer: AuthedUser, admin_headers: dict[str, str]
) -> None:
    key = create_key(client, customer.headers)["key"]
    deleted = client.delete(f"/customer/{customer.customer_oid}", headers=admin_headers)
    assert deleted.status_code == 200
    assert "Unknown API key" in challenge(client.get("/customers/me", headers=bearer(key)))


def test_an_unknown_key_is_401(client: TestClient) -> None:
    refused = client.get("/customers/me", headers=bearer("obk_" + "A" * 43))
    assert "Unknown API key" in challenge(refused)


def test_keys_per_user_are_limited(client: TestClient, customer: AuthedUser) -> None:
    for index in range(MAX_KEYS_PER_USER):
        create_key(client, customer.headers, name=f"k{index}")
    response = client.post("/auth/api-keys", json={"name": "one more"}, headers=customer.headers)
    assert response.status_code == 409
    # Revoking one makes room again.
    first = client.get("/auth/api-keys", headers=customer.headers).json()[-1]
    assert (
        client.delete(f"/auth/api-keys/{first['id']}", headers=customer.headers).status_code == 204
    )
    create_key(client, customer.headers, name="again")


def test_swagger_offers_both_ways_to_authorize(client: TestClient) -> None:
    schemes = client.get("/openapi.json").json()["components"]["securitySchemes"]
    assert schemes["OAuth2PasswordBearer"]["type"] == "oauth2"
    assert schemes["APIKey"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "obk_...",
        "description": "An API key from POST /auth/api-keys (or an access token), as a "
        "Bearer token",
    }


# --- MCP ------------------------------------------------------------------------------------


def test_an_analysts_key_works_on_mcp(client: TestClient, analyst_headers: dict[str, str]) -> None:
    key = create_key(client, analyst_headers)["key"]
    tools = McpCaller(client, bearer(key)).tools()
    assert "get_portfolio" in tools
    health = McpCaller(client, bearer(key)).ok("health")
    assert health["status"] == "ok"


def test_a_customers_key_is_refused_by_mcp_for_its_role(
    client: TestClient, customer: AuthedUser
) -> None:
    key = create_key(client, customer.headers)["key"]
    response = post_mcp(client, bearer(key))
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"


def test_mcp_says_why_a_credential_is_refused(
    client: TestClient, analyst_headers: dict[str, str], engine: Engine
) -> None:
    revoked = create_key(client, analyst_headers, name="revoked")
    client.delete(f"/auth/api-keys/{revoked['id']}", headers=analyst_headers)
    expired = create_key(client, analyst_headers, name="expired", expires_in_days=1)
    with new_session(engine) as session:
        session.execute(
            update(ApiKey)
            .where(ApiKey.id == expired["id"])  # type: ignore[arg-type]
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        session.commit()
    cases = {
        revoked["key"]: "The API key has been revoked",
        expired["key"]: "The API key has expired",
        "obk_" + "B" * 43: "Unknown API key",
        "not-a-token": "The token is malformed or was not issued by this server",
    }
    for token, reason in cases.items():
        response = post_mcp(client, bearer(token))
        assert response.status_code == 401, token
        assert response.json() == {"error": "invalid_token", "error_description": reason}
        assert response.headers["www-authenticate"] == (
            f'Bearer error="invalid_token", error_description="{reason}"'
        )
    missing = post_mcp(client)
    assert missing.status_code == 401
    assert missing.json()["error_description"] == "Authentication required"
