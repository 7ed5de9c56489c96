"""Helpers that register customers, create staff users and log them on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from app.core.db import new_session
from app.models.user import Role
from app.services import users

DEFAULT_PASSWORD = "correct-horse-battery"


def registration_body(username: str = "alice", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Alice Example",
        "dob": "1990-05-17",
        "address": "Damrak 1, 1012 LG Amsterdam",
        "country": "NL",
        "id_document": "NL1234567",
        "username": username,
        "password": DEFAULT_PASSWORD,
    }
    body.update(overrides)
    return body


@dataclass
class AuthedUser:
    username: str
    password: str
    customer_oid: str
    iban: str
    headers: dict[str, str]
    refresh_token: str


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def logon(client: TestClient, username: str, password: str) -> dict[str, Any]:
    response = client.post("/auth/logon", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def logon_headers(client: TestClient, username: str, password: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {logon(client, username, password)['access_token']}"}


def register_customer(client: TestClient, username: str = "alice", **overrides: Any) -> AuthedUser:
    body = registration_body(username, **overrides)
    response = client.post("/customers/register", json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    # A password the customer chose is never echoed; a generated one is shown once.
    password = created["password"] or body["password"]
    tokens = logon(client, username, password)
    return AuthedUser(
        username=created["username"],
        password=password,
        customer_oid=created["customer_oid"],
        iban=created["account"]["iban"],
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        refresh_token=tokens["refresh_token"],
    )


def create_staff_user(engine: Engine, username: str, password: str, role: str) -> None:
    with new_session(engine) as session:
        users.create_user(
            session=session,
            username=username,
            password=password,
            role=Role(role),
            bcrypt_rounds=4,
        )
