"""The sandbox's clock: reading it, advancing, freezing and unfreezing it, who may, and that
what the bank writes takes its time from it (while tokens keep the wall clock)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.core.clock import utcnow
from app.services import clock
from tests.api.test_sandboxes import admin_of, create, register_in
from tests.utils.auth import AuthedUser, register_customer
from tests.utils.concurrency import run_at_once
from tests.utils.money import deposit, open_account, transfer_body


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def read_clock(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    response = client.get("/sandbox/clock", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def advance(client: TestClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = client.post("/sandbox/clock/advance", json=body, headers=headers)
    assert response.status_code == 200, response.text
    advanced: dict[str, Any] = response.json()
    return advanced


def freeze(client: TestClient, headers: dict[str, str]) -> datetime:
    response = client.post("/sandbox/clock/freeze", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["mode"] == "frozen"
    return at(response.json()["now"])


def test_a_new_bank_runs_on_the_wall_clock(client: TestClient, customer: AuthedUser) -> None:
    before = utcnow()
    body = read_clock(client, customer.headers)
    assert body["mode"] == "real"
    assert before <= at(body["now"]) <= utcnow()


def test_advancing_moves_the_clock_forward_and_it_keeps_flowing(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    before = utcnow()
    advanced = advance(client, admin_headers, days=30, hours=6)
    start, end = at(advanced["from"]), at(advanced["to"])
    assert before <= start <= utcnow()
    assert end - start == timedelta(days=30, hours=6)
    assert advanced["executed"] == {}
    now = read_clock(client, admin_headers)
    assert now["mode"] == "real"
    assert end <= at(now["now"]) <= utcnow() + timedelta(days=30, hours=6)


def test_a_frozen_clock_stands_still_moves_only_when_advanced_and_resumes_where_it_stood(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    frozen_at = freeze(client, admin_headers)
    assert at(read_clock(client, admin_headers)["now"]) == frozen_at
    assert freeze(client, admin_headers) == frozen_at  # freezing twice changes nothing
    advanced = advance(client, admin_headers, hours=5)
    assert at(advanced["from"]) == frozen_at
    assert at(advanced["to"]) == frozen_at + timedelta(hours=5)
    assert at(read_clock(client, admin_headers)["now"]) == frozen_at + timedelta(hours=5)

    to = frozen_at + timedelta(days=3, minutes=7)
    assert at(advance(client, admin_headers, to=to.isoformat())["to"]) == to

    response = client.post("/sandbox/clock/unfreeze", headers=admin_headers)
    assert response.status_code == 200
    assert response.json()["mode"] == "real"
    # It flows on from where it stood: no jump to the wall clock, no step back.
    resumed = at(read_clock(client, admin_headers)["now"])
    assert to <= resumed <= to + timedelta(minutes=1)
    again = client.post("/sandbox/clock/unfreeze", headers=admin_headers)
    assert again.status_code == 200
    assert again.json()["mode"] == "real"


def test_a_moment_without_a_zone_is_utc(client: TestClient, admin_headers: dict[str, str]) -> None:
    frozen_at = freeze(client, admin_headers)
    target = (frozen_at + timedelta(days=2)).replace(tzinfo=None, microsecond=0)
    assert at(advance(client, admin_headers, to=target.isoformat())["to"]) == target.replace(
        tzinfo=UTC
    )


def test_the_clock_never_goes_back(client: TestClient, admin_headers: dict[str, str]) -> None:
    frozen_at = freeze(client, admin_headers)
    earlier = frozen_at - timedelta(seconds=1)
    response = client.post(
        "/sandbox/clock/advance", json={"to": earlier.isoformat()}, headers=admin_headers
    )
    assert response.status_code == 409
    assert "restore a snapshot" in response.json()["detail"]
    assert at(read_clock(client, admin_headers)["now"]) == frozen_at
    # Advancing to the moment it stands at is no move, not an error.
    same = advance(client, admin_headers, to=frozen_at.isoformat())
    assert at(same["from"]) == at(same["to"]) == frozen_at


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({}, "give days and/or hours, or to"),
        ({"days": 1, "to": "2030-01-01T00:00:00Z"}, "not both"),
        ({"days": -1}, "greater than or equal to 0"),
        ({"hours": -2}, "greater than or equal to 0"),
        ({"days": 36_501}, "less than or equal to 36500"),
        ({"days": "soon"}, "valid integer"),
        ({"hours": False}, "not true or false"),
        ({"days": None, "to": "2030-01-01T00:00:00Z"}, "instead of sending null"),
        ({"to": "next tuesday"}, "datetime"),
        ({"days": 36_500, "hours": 24}, "at most 36500 days"),
        ({"to": "9999-12-31T23:59:59-01:00"}, "cannot pass 9000-01-01"),
    ],
)
def test_bad_advances_are_refused_and_move_nothing(
    client: TestClient, admin_headers: dict[str, str], body: dict[str, Any], says: str
) -> None:
    frozen_at = freeze(client, admin_headers)
    response = client.post("/sandbox/clock/advance", json=body, headers=admin_headers)
    assert response.status_code == 422
    assert says in str(response.json()["detail"])
    assert at(read_clock(client, admin_headers)["now"]) == frozen_at


def test_the_clock_stops_before_the_end_of_the_calendar(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    freeze(client, admin_headers)
    for _ in range(400):  # 400 x 100 years would pass year 9999
        response = client.post(
            "/sandbox/clock/advance", json={"days": 36_500}, headers=admin_headers
        )
        if response.status_code != 200:
            break
    assert response.status_code == 409  # where the clock is decides: a conflict
    assert "cannot pass 9000-01-01" in response.json()["detail"]
    assert at(read_clock(client, admin_headers)["now"]).year < 9000


@pytest.mark.parametrize("path", ["/advance", "/freeze", "/unfreeze"])
def test_only_admins_move_the_clock(
    client: TestClient,
    customer: AuthedUser,
    analyst_headers: dict[str, str],
    admin_headers: dict[str, str],
    path: str,
) -> None:
    frozen_at = freeze(client, admin_headers)
    body = {"days": 1}
    assert client.post(f"/sandbox/clock{path}", json=body).status_code == 401
    for headers in (customer.headers, analyst_headers):
        response = client.post(f"/sandbox/clock{path}", json=body, headers=headers)
        assert response.status_code == 403
    clock_now = read_clock(client, customer.headers)
    assert (at(clock_now["now"]), clock_now["mode"]) == (frozen_at, "frozen")


def test_reading_the_clock_needs_a_logon(client: TestClient) -> None:
    response = client.get("/sandbox/clock")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_money_accounts_and_customers_are_written_at_the_sandbox_time(
    client: TestClient, customer: AuthedUser, admin_headers: dict[str, str]
) -> None:
    freeze(client, admin_headers)
    moved_to = at(advance(client, admin_headers, days=45)["to"])
    deposited = deposit(client, admin_headers, customer.iban, "80.00")
    assert at(deposited["created_at"]) == moved_to
    bob = register_customer(client, "bob")
    saving = open_account(client, customer.headers, "saving")
    sent = client.post(
        "/transfers",
        json=transfer_body(customer.iban, bob.iban, "30.00"),
        headers=customer.headers,
    )
    assert sent.status_code == 201
    assert at(sent.json()["created_at"]) == moved_to

    accounts = client.get("/accounts/overview", headers=customer.headers).json()["accounts"]
    opened = {a["iban"]: at(a["created_at"]) for a in accounts}
    assert opened[saving] == moved_to
    assert opened[customer.iban] < moved_to  # opened before the advance
    assert (
        at(
            client.get("/accounts/overview", headers=bob.headers).json()["accounts"][0][
                "created_at"
            ]
        )
        == moved_to
    )

    statement = client.get(f"/accounts/{customer.iban}/transactions", headers=customer.headers)
    assert statement.status_code == 200
    assert {at(item["created_at"]) for item in statement.json()["items"]} == {moved_to}
    listed = client.get(
        f"/accounts/{customer.iban}/transactions",
        params={"from": moved_to.date().isoformat()},
        headers=customer.headers,
    )
    assert len(listed.json()["items"]) == 2  # the deposit and the transfer, on the sandbox date


def test_tokens_keep_the_wall_clock(
    client: TestClient, customer: AuthedUser, admin_headers: dict[str, str]
) -> None:
    advance(client, admin_headers, days=3_650)
    assert client.get("/accounts/overview", headers=customer.headers).status_code == 200
    refreshed = client.post("/auth/refresh", json={"refresh_token": customer.refresh_token})
    assert refreshed.status_code == 200


def test_the_age_rule_counts_on_the_sandbox_date(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    frozen_at = freeze(client, admin_headers)
    today = frozen_at.date()
    turns_18 = today + timedelta(days=10)
    born = date(turns_18.year - 18, turns_18.month, min(turns_18.day, 28))
    body = {
        "name": "Young Example",
        "dob": born.isoformat(),
        "address": "Damrak 1, 1012 LG Amsterdam",
        "country": "NL",
        "id_document": "NL7654321",
        "username": "young",
        "password": "correct-horse-battery",
    }
    too_young = client.post("/customers/register", json=body)
    assert too_young.status_code == 422
    assert "at least 18" in too_young.json()["detail"]
    advance(client, admin_headers, days=40)
    assert client.post("/customers/register", json=body).status_code == 201


def test_two_advances_at_once_both_count(
    app: FastAPI, client: TestClient, admin_headers: dict[str, str]
) -> None:
    frozen_at = freeze(client, admin_headers)

    def one_day(c: TestClient, _: int) -> dict[str, Any]:
        return advance(c, admin_headers, days=1)

    moves = run_at_once(app, 2, one_day)
    assert sorted(at(m["to"]) for m in moves) == [
        frozen_at + timedelta(days=1),
        frozen_at + timedelta(days=2),
    ]
    assert at(read_clock(client, admin_headers)["now"]) == frozen_at + timedelta(days=2)


def test_each_sandbox_has_its_own_clock_and_a_restore_brings_its_time_back(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    created = create(client)
    sid = created["sandbox_id"]
    admin = admin_of(client, created)
    frozen_at = freeze(client, admin)
    snapshot = client.post(f"/sandboxes/{sid}/snapshots", json={"name": "day0"}, headers=admin)
    assert snapshot.status_code == 201
    advance(client, admin, days=100)
    assert at(read_clock(client, admin)["now"]) == frozen_at + timedelta(days=100)
    # The server's own bank did not move.
    assert abs(at(read_clock(client, admin_headers)["now"]) - utcnow()) < timedelta(minutes=1)
    alice = register_in(client, created, "alice")
    assert at(read_clock(client, alice["headers"])["now"]) == frozen_at + timedelta(days=100)

    restored = client.post(f"/sandboxes/{sid}/restore", json={"snapshot": "day0"}, headers=admin)
    assert restored.status_code == 200, restored.text
    assert at(read_clock(client, admin)["now"]) == frozen_at


def test_unfreezing_takes_the_frozen_time_off_the_offset(
    monkeypatch: pytest.MonkeyPatch, client: TestClient, admin_headers: dict[str, str]
) -> None:
    wall = [datetime(2027, 1, 1, tzinfo=UTC)]
    monkeypatch.setattr(clock, "utcnow", lambda: wall[0])
    assert advance(client, admin_headers, days=10)["to"] == "2027-01-11T00:00:00Z"
    freeze(client, admin_headers)
    wall[0] += timedelta(days=5)  # five wall days pass while frozen
    assert read_clock(client, admin_headers)["now"] == "2027-01-11T00:00:00Z"
    client.post("/sandbox/clock/unfreeze", headers=admin_headers)
    wall[0] += timedelta(hours=1)
    assert read_clock(client, admin_headers) == {"now": "2027-01-11T01:00:00Z", "mode": "real"}
