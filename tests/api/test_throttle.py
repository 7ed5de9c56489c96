"""Brute-force protection over HTTP: failed logons per account and per address, registrations per
address, with the counts in the database (shared by every app instance on it)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import update
from sqlalchemy.engine import Engine

from app.core.clock import utcnow
from app.core.db import new_session
from app.models.throttle import Throttle
from tests.utils.auth import AuthedUser, registration_body

TOO_MANY = "Too many failed logon attempts, try again later"


def logon(client: TestClient, username: str, password: str) -> Response:
    return client.post("/auth/logon", data={"username": username, "password": password})


def assert_429(response: Response, detail: str = TOO_MANY) -> int:
    assert response.status_code == 429
    assert response.json() == {"detail": detail}
    retry_after = int(response.headers["retry-after"])
    assert retry_after >= 1
    return retry_after


@pytest.fixture
def strict(make_client: Callable[..., TestClient]) -> TestClient:
    """An app that holds an account back after three consecutive failures."""
    return make_client(logon_failures_per_account=3)


def test_an_account_is_held_back_after_consecutive_failures_even_with_the_right_password(
    strict: TestClient, customer: AuthedUser
) -> None:
    for _ in range(3):
        assert logon(strict, "alice", "wrong-password-1").status_code == 401
    first = assert_429(logon(strict, "alice", customer.password))
    assert first <= 2
    assert_429(logon(strict, "alice", "wrong-password-1"))


def test_the_hold_is_seen_by_another_app_instance_on_the_same_database(
    strict: TestClient, make_client: Callable[..., TestClient], customer: AuthedUser
) -> None:
    other_instance = make_client(logon_failures_per_account=3)
    for _ in range(3):
        assert logon(strict, "alice", "wrong-password-1").status_code == 401
    assert_429(logon(other_instance, "alice", customer.password))


def test_a_success_resets_the_accounts_count(strict: TestClient, customer: AuthedUser) -> None:
    for _ in range(2):
        assert logon(strict, "alice", "wrong-password-1").status_code == 401
    assert logon(strict, "alice", customer.password).status_code == 200
    for _ in range(2):
        assert logon(strict, "alice", "wrong-password-1").status_code == 401
    assert logon(strict, "alice", customer.password).status_code == 200


def test_the_delay_grows_and_ends(strict: TestClient, customer: AuthedUser, engine: Engine) -> None:
    delays = []
    for _ in range(3):
        for _ in range(3 if not delays else 1):
            assert logon(strict, "alice", "wrong-password-1").status_code == 401
        delays.append(assert_429(logon(strict, "alice", customer.password)))
        _let_the_hold_end(engine)
    assert delays == sorted(delays)
    assert delays[-1] > delays[0]
    # Once the hold is over, the right password works and clears the account.
    assert logon(strict, "alice", customer.password).status_code == 200


def test_unknown_usernames_are_held_back_alike(strict: TestClient) -> None:
    for _ in range(3):
        assert logon(strict, "nobody.here", "wrong-password-1").status_code == 401
    assert_429(logon(strict, "nobody.here", "wrong-password-1"))


def test_other_accounts_are_not_held_back(
    strict: TestClient, customer: AuthedUser, other_customer: AuthedUser
) -> None:
    for _ in range(3):
        assert logon(strict, "alice", "wrong-password-1").status_code == 401
    assert logon(strict, "bob", other_customer.password).status_code == 200


def test_failures_from_one_address_are_limited_per_hour(
    make_client: Callable[..., TestClient], customer: AuthedUser
) -> None:
    client = make_client(logon_failures_per_address=4)
    for index in range(4):
        assert logon(client, f"guess{index}", "wrong-password-1").status_code == 401
    retry_after = assert_429(logon(client, "alice", customer.password))
    assert 3500 < retry_after <= 3600


def test_registrations_from_one_address_are_limited_per_hour(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(registrations_per_address=2)
    for name in ("first.one", "second.one"):
        response = client.post("/customers/register", json=registration_body(name))
        assert response.status_code == 201
    response = client.post("/customers/register", json=registration_body("third.one"))
    assert_429(response, "Too many registrations from this address, try again later")


def test_throttling_can_be_switched_off(
    make_client: Callable[..., TestClient], customer: AuthedUser
) -> None:
    client = make_client(
        throttle_enabled=False, logon_failures_per_account=1, registrations_per_address=1
    )
    for _ in range(5):
        assert logon(client, "alice", "wrong-password-1").status_code == 401
    assert logon(client, "alice", customer.password).status_code == 200
    for name in ("first.one", "second.one"):
        response = client.post("/customers/register", json=registration_body(name))
        assert response.status_code == 201


def _let_the_hold_end(engine: Engine) -> None:
    with new_session(engine) as session:
        session.execute(update(Throttle).values(blocked_until=utcnow() - timedelta(seconds=1)))
        session.commit()
