"""Standing orders: weekly and monthly payments run by the sandbox's clock, each occurrence
once and in time order, month ends, failures without funds, end dates and cancelling."""

from __future__ import annotations

import calendar
import time as time_module
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.core.config import Settings
from app.main import create_app
from app.services import clock, transfers
from tests.api.test_clock import advance, at, freeze
from tests.utils.auth import AuthedUser, create_staff_user, logon_headers, register_customer
from tests.utils.concurrency import run_at_once
from tests.utils.money import assert_ledger_consistent, balance_of, deposit, transfer_body


def order_body(
    sender: AuthedUser, to_iban: str, amount: str, frequency: str, start_on: date, **extra: Any
) -> dict[str, Any]:
    return {
        **transfer_body(sender.iban, to_iban, amount, description=f"{frequency} order"),
        "frequency": frequency,
        "start_on": start_on.isoformat(),
        **extra,
    }


def create_order(client: TestClient, sender: AuthedUser, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/standing-orders", json=body, headers=sender.headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def detail(client: TestClient, user: AuthedUser, order_id: int) -> dict[str, Any]:
    response = client.get(f"/standing-orders/{order_id}", headers=user.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def days_of(order: dict[str, Any]) -> list[str]:
    return [e["occurrence_on"] for e in order["executions"]]


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def test_65_days_run_a_monthly_order_twice_and_a_weekly_one_every_week_in_time_order(
    client: TestClient, engine: Engine, customer: AuthedUser, admin_headers: dict[str, str]
) -> None:
    today = freeze(client, admin_headers).date()
    deposit(client, admin_headers, customer.iban, "1000.00")
    bob = register_customer(client, "bob")
    monthly = create_order(
        client, customer, order_body(customer, bob.iban, "100.00", "monthly", today + timedelta(10))
    )
    weekly = create_order(
        client, customer, order_body(customer, bob.iban, "7.00", "weekly", today + timedelta(3))
    )
    assert (monthly["status"], monthly["next_on"]) == (
        "active",
        (today + timedelta(10)).isoformat(),
    )

    advanced = advance(client, admin_headers, days=65)

    first = today + timedelta(10)
    following_month = (first.month % 12) + 1
    second = date(
        first.year + (first.month == 12),
        following_month,
        min(first.day, calendar.monthrange(first.year + (first.month == 12), following_month)[1]),
    )
    weekly_days = [today + timedelta(3 + 7 * k) for k in range(9)]  # day 3, 10, ..., 59
    assert all(day <= today + timedelta(65) for day in weekly_days)
    assert today + timedelta(3 + 7 * 9) > today + timedelta(65)
    assert advanced["executed"] == {"standing_order.executed": 2 + 9}
    assert days_of(detail(client, customer, monthly["id"])) == [
        first.isoformat(),
        second.isoformat(),
    ]
    assert days_of(detail(client, customer, weekly["id"])) == [d.isoformat() for d in weekly_days]
    assert all(
        e["status"] == "completed" for e in detail(client, customer, weekly["id"])["executions"]
    )

    # Bob's statement: every payment on its sandbox date, booked in time order.
    lines = client.get(
        f"/accounts/{bob.iban}/transactions", params={"limit": 100}, headers=bob.headers
    ).json()["items"][::-1]  # oldest first
    expected = sorted(
        [(midnight(d), "100.00") for d in (first, second)]
        + [(midnight(d), "7.00") for d in weekly_days]
    )
    assert [(at(line["created_at"]), line["amount"]) for line in lines] == expected
    assert [line["entry_id"] for line in lines] == sorted(line["entry_id"] for line in lines)
    assert balance_of(client, bob.headers, bob.iban) == "263.00"
    # Each occurrence is a transfer the customer sees, and in the portfolio's history.
    made = {e["transfer_id"] for e in detail(client, customer, weekly["id"])["executions"]}
    listed = client.get("/transfers", params={"limit": 100}, headers=customer.headers).json()
    assert made <= {t["id"] for t in listed["items"]}
    history = client.get(
        f"/user-portfolio/{bob.customer_oid}/transactions",
        params={"limit": 100},
        headers=bob.headers,
    ).json()
    mirrored = [t for t in history["transactions"] if t["transaction_type"] == "transfer"]
    assert sorted((at(t["occurred_at"]), t["amount"]) for t in mirrored) == expected
    assert_ledger_consistent(engine)


def test_a_monthly_order_on_the_31st_runs_on_the_last_day_of_shorter_months(
    client: TestClient, customer: AuthedUser, admin_headers: dict[str, str]
) -> None:
    year = freeze(client, admin_headers).year + 1
    advance(client, admin_headers, to=f"{year}-01-30T12:00:00Z")
    deposit(client, admin_headers, customer.iban, "100.00")
    bob = register_customer(client, "bob")
    order = create_order(
        client, customer, order_body(customer, bob.iban, "1.00", "monthly", date(year, 1, 31))
    )
    advance(client, admin_headers, to=f"{year}-05-01T00:00:00Z")
    february = calendar.monthrange(year, 2)[1]
    assert days_of(detail(client, customer, order["id"])) == [
        f"{year}-01-31",
        f"{year}-02-{february}",
        f"{year}-03-31",
        f"{year}-04-30",
    ]
    assert detail(client, customer, order["id"])["next_on"] == f"{year}-05-31"


def test_without_funds_an_occurrence_fails_is_not_retried_and_the_next_one_runs(
    client: TestClient, engine: Engine, customer: AuthedUser, admin_headers: dict[str, str]
) -> None:
    today = freeze(client, admin_headers).date()
    bob = register_customer(client, "bob")
    order = create_order(
        client, customer, order_body(customer, bob.iban, "10.00", "weekly", today + timedelta(1))
    )
    assert advance(client, admin_headers, days=1)["executed"] == {"standing_order.failed": 1}
    deposit(client, admin_headers, customer.iban, "15.00")
    assert advance(client, admin_headers, days=7)["executed"] == {"standing_order.executed": 1}
    executions = detail(client, customer, order["id"])["executions"]
    assert [(e["status"], e["failure_reason"]) for e in executions] == [
        ("failed", "insufficient_funds"),
        ("completed", None),
    ]
    failed = client.get(f"/transfers/{executions[0]['transfer_id']}", headers=customer.headers)
    assert (failed.json()["status"], failed.json()["entry_id"]) == ("failed", None)
    assert balance_of(client, customer.headers, customer.iban) == "5.00"
    assert_ledger_consistent(engine)


def test_an_order_ends_after_its_last_occurrence(
    client: TestClient, customer: AuthedUser, admin_headers: dict[str, str]
) -> None:
    today = freeze(client, admin_headers).date()
    deposit(client, admin_headers, customer.iban, "100.00")
    bob = register_customer(client, "bob")
    order = create_order(
        client,
        customer,
        order_body(
            customer,
            bob.iban,
            "1.00",
            "weekly",
            today,
            end_on=(today + timedelta(15)).isoformat(),
        ),
    )
    assert advance(client, admin_headers, days=30)["executed"] == {"standing_order.executed": 3}
    ended = detail(client, customer, order["id"])
    assert (ended["status"], ended["next_on"]) == ("ended", None)
    assert days_of(ended) == [(today + timedelta(k)).isoformat() for k in (0, 7, 14)]
    assert (
        client.delete(f"/standing-orders/{order['id']}", headers=customer.headers).status_code
        == 409
    )


def test_listing_and_cancelling_standing_orders(
    client: TestClient, customer: AuthedUser, admin_headers: dict[str, str]
) -> None:
    today = freeze(client, admin_headers).date()
    deposit(client, admin_headers, customer.iban, "100.00")
    bob = register_customer(client, "bob")
    first = create_order(
        client, customer, order_body(customer, bob.iban, "1.00", "weekly", today + timedelta(1))
    )
    second = create_order(
        client, customer, order_body(customer, bob.iban, "2.00", "monthly", today + timedelta(2))
    )
    listed = client.get("/standing-orders", headers=customer.headers)
    assert listed.status_code == 200
    assert [o["id"] for o in listed.json()] == [second["id"], first["id"]]
    assert client.get("/standing-orders", headers=bob.headers).json() == []

    path = f"/standing-orders/{first['id']}"
    assert client.get(path, headers=bob.headers).status_code == 404
    assert client.delete(path, headers=bob.headers).status_code == 404
    assert client.delete(path, headers=admin_headers).status_code == 403
    assert client.delete(path).status_code == 401
    assert client.get("/standing-orders/abc", headers=customer.headers).status_code == 400
    assert client.delete("/standing-orders/99999999", headers=customer.headers).status_code == 404

    cancelled = client.delete(path, headers=customer.headers)
    assert cancelled.status_code == 200
    assert cancelled.json() == {**first, "status": "cancelled", "next_on": None}
    assert client.delete(path, headers=customer.headers).status_code == 409
    assert advance(client, admin_headers, days=3)["executed"] == {"standing_order.executed": 1}
    assert detail(client, customer, first["id"])["executions"] == []


@pytest.mark.parametrize(
    ("change", "status", "says"),
    [
        ({"start_on": "yesterday"}, 422, "date"),
        ({"frequency": "daily"}, 422, "weekly"),
        ({"end_on": "-1"}, 422, "end_on must not be before start_on"),
        ({"to_iban": "NL91ABNA0417164300"}, 404, "not found"),
        ({"to_iban": "from"}, 422, "Same"),
        ({"currency": "USD"}, 422, "holds EUR"),
    ],
)
def test_bad_standing_orders_are_refused(
    client: TestClient,
    customer: AuthedUser,
    admin_headers: dict[str, str],
    change: dict[str, str],
    status: int,
    says: str,
) -> None:
    today = freeze(client, admin_headers).date()
    bob = register_customer(client, "bob")
    body = order_body(customer, bob.iban, "1.00", "weekly", today + timedelta(1))
    replacements = {
        "yesterday": (today - timedelta(1)).isoformat(),
        "-1": today.isoformat(),
        "from": customer.iban,
    }
    body.update({k: replacements.get(v, v) for k, v in change.items()})
    if change.get("start_on") == "yesterday":
        says = today.isoformat()
    response = client.post("/standing-orders", json=body, headers=customer.headers)
    assert response.status_code == status, response.text
    assert says.lower() in str(response.json()["detail"]).lower()
    assert client.get("/standing-orders", headers=customer.headers).json() == []


def test_someone_elses_account_cannot_pay_a_standing_order(
    client: TestClient, customer: AuthedUser, admin_headers: dict[str, str]
) -> None:
    today = freeze(client, admin_headers).date()
    bob = register_customer(client, "bob")
    body = order_body(bob, customer.iban, "1.00", "weekly", today + timedelta(1))
    assert client.post("/standing-orders", json=body, headers=customer.headers).status_code == 404
    assert client.post("/standing-orders", json=body, headers=admin_headers).status_code == 403


def test_two_advances_at_once_run_each_occurrence_once(
    app: FastAPI,
    client: TestClient,
    engine: Engine,
    customer: AuthedUser,
    admin_headers: dict[str, str],
) -> None:
    today = freeze(client, admin_headers).date()
    deposit(client, admin_headers, customer.iban, "100.00")
    bob = register_customer(client, "bob")
    order = create_order(
        client, customer, order_body(customer, bob.iban, "1.00", "weekly", today + timedelta(1))
    )

    def two_weeks(c: TestClient, _: int) -> dict[str, Any]:
        return advance(c, admin_headers, days=14)

    moves = run_at_once(app, 2, two_weeks)
    assert sum(m["executed"].get("standing_order.executed", 0) for m in moves) == 4
    assert days_of(detail(client, customer, order["id"])) == [
        (today + timedelta(k)).isoformat() for k in (1, 8, 15, 22)
    ]
    assert balance_of(client, bob.headers, bob.iban) == "4.00"
    assert_ledger_consistent(engine)


def test_an_advance_that_crashes_midway_runs_no_occurrence_twice(
    app: FastAPI,
    client: TestClient,
    engine: Engine,
    customer: AuthedUser,
    admin_headers: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    today = freeze(client, admin_headers).date()
    deposit(client, admin_headers, customer.iban, "100.00")
    bob = register_customer(client, "bob")
    order = create_order(
        client, customer, order_body(customer, bob.iban, "1.00", "weekly", today + timedelta(1))
    )
    run_order = transfers.run_order
    calls = 0

    def crash_on_the_third(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("the process dies here")
        return run_order(*args, **kwargs)

    monkeypatch.setattr(transfers, "run_order", crash_on_the_third)
    with TestClient(app, raise_server_exceptions=False) as crashing:
        response = crashing.post("/sandbox/clock/advance", json={"days": 21}, headers=admin_headers)
    assert response.status_code == 500
    assert detail(client, customer, order["id"])["executions"] == []
    monkeypatch.setattr(transfers, "run_order", run_order)
    assert advance(client, admin_headers, days=21)["executed"] == {"standing_order.executed": 3}
    assert balance_of(client, bob.headers, bob.iban) == "3.00"
    assert_ledger_consistent(engine)


def test_two_servers_ticking_on_one_database_run_each_occurrence_once(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real mode, as with several workers or hosts: both run what falls due in the background,
    the clock's lock lets one of them run each occurrence."""
    ticking = settings.model_copy(update={"clock_tick_seconds": 0.02})
    first, second = create_app(ticking), create_app(ticking)
    with TestClient(first) as client, TestClient(second) as other:
        create_staff_user(first.state.engine, "root.admin", "admin-password-123", role="admin")
        admin = logon_headers(client, "root.admin", "admin-password-123")
        alice, bob = register_customer(client, "alice"), register_customer(client, "bob")
        deposit(client, admin, alice.iban, "100.00")
        tomorrow = clock.utcnow().date() + timedelta(1)
        orders = [
            create_order(client, alice, order_body(alice, bob.iban, "1.00", "weekly", tomorrow))
            for _ in range(5)
        ]
        wall = clock.utcnow
        monkeypatch.setattr(clock, "utcnow", lambda: wall() + timedelta(days=15))
        deadline = time_module.monotonic() + 20
        while time_module.monotonic() < deadline:
            if all(len(detail(other, alice, o["id"])["executions"]) == 3 for o in orders):
                break
            time_module.sleep(0.05)
        time_module.sleep(0.2)  # a few more ticks of both: nothing more runs
        for order in orders:
            assert days_of(detail(client, alice, order["id"])) == [
                (tomorrow + timedelta(7 * k)).isoformat() for k in range(3)
            ]
        assert balance_of(client, bob.headers, bob.iban) == "15.00"
        assert_ledger_consistent(first.state.engine)
