"""Scheduled transfers: `execute_on` books nothing now; the sandbox's clock runs them on their
date, in date order, once; a customer cancels one before it runs."""

from __future__ import annotations

import time as time_module
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func
from sqlmodel import select

from app.core.config import Settings
from app.core.db import new_session
from app.main import create_app
from app.models.journal_entry import JournalEntry
from app.services import clock, transfers
from tests.api.test_clock import advance, at, freeze
from tests.api.test_sandboxes import admin_of, create, register_in
from tests.utils.auth import AuthedUser, create_staff_user, logon_headers, register_customer
from tests.utils.concurrency import run_at_once
from tests.utils.money import assert_ledger_consistent, balance_of, deposit, transfer_body


def schedule(
    client: TestClient,
    sender: AuthedUser,
    to_iban: str,
    amount: str,
    execute_on: date,
    **headers: str,
) -> dict[str, Any]:
    response = client.post(
        "/transfers",
        json={**transfer_body(sender.iban, to_iban, amount), "execute_on": execute_on.isoformat()},
        headers={**sender.headers, **headers},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def get_transfer(client: TestClient, user: AuthedUser, transfer_id: int) -> dict[str, Any]:
    response = client.get(f"/transfers/{transfer_id}", headers=user.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def entries(engine: Engine) -> int:
    with new_session(engine) as session:
        return session.exec(select(func.count()).select_from(JournalEntry)).one()


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def test_a_scheduled_transfer_moves_nothing_until_its_date_then_books_on_it(
    client: TestClient, engine: Engine, customer: AuthedUser, admin_headers: dict[str, str]
) -> None:
    today = freeze(client, admin_headers).date()
    deposit(client, admin_headers, customer.iban, "100.00")
    bob = register_customer(client, "bob")
    on = today + timedelta(days=3)

    scheduled = schedule(client, customer, bob.iban, "40.00", on)
    assert scheduled["status"] == "scheduled"
    assert scheduled["execute_on"] == on.isoformat()
    assert scheduled["failure_reason"] is None
    assert balance_of(client, customer.headers, customer.iban) == "100.00"
    assert balance_of(client, bob.headers, bob.iban) == "0.00"
    # The recipient sees an incoming transfer once it is booked, not before.
    assert client.get(f"/transfers/{scheduled['id']}", headers=bob.headers).status_code == 404
    assert client.get("/transfers", headers=bob.headers).json()["items"] == []

    assert advance(client, admin_headers, days=2)["executed"] == {}  # the day before
    assert get_transfer(client, customer, scheduled["id"])["status"] == "scheduled"
    advanced = advance(client, admin_headers, days=1)
    assert advanced["executed"] == {"transfer.completed": 1}

    done = get_transfer(client, customer, scheduled["id"])
    assert done["status"] == "completed"
    assert done["execute_on"] == on.isoformat()
    assert get_transfer(client, bob, scheduled["id"]) == done
    assert balance_of(client, customer.headers, customer.iban) == "60.00"
    assert balance_of(client, bob.headers, bob.iban) == "40.00"
    statement = client.get(f"/accounts/{bob.iban}/transactions", headers=bob.headers).json()
    [line] = statement["items"]
    assert at(line["created_at"]) == day_start(on)  # booked on its date, at the day's start
    assert scheduled["entry_id"] is None
    assert line["entry_id"] == done["entry_id"]
    assert_ledger_consistent(engine)

    advance(client, admin_headers, days=30)  # it ran once
    assert balance_of(client, customer.headers, customer.iban) == "60.00"


def test_due_transfers_run_in_date_order_and_one_without_funds_fails_without_moving_money(
    client: TestClient, engine: Engine, customer: AuthedUser, admin_headers: dict[str, str]
) -> None:
    today = freeze(client, admin_headers).date()
    deposit(client, admin_headers, customer.iban, "50.00")
    bob = register_customer(client, "bob")
    later = schedule(client, customer, bob.iban, "30.00", today + timedelta(days=9))
    sooner = schedule(client, customer, bob.iban, "30.00", today + timedelta(days=4))
    before = entries(engine)

    advanced = advance(client, admin_headers, days=10)
    assert advanced["executed"] == {"transfer.completed": 1, "transfer.failed": 1}
    assert get_transfer(client, customer, sooner["id"])["status"] == "completed"
    failed = get_transfer(client, customer, later["id"])
    assert (failed["status"], failed["failure_reason"]) == ("failed", "insufficient_funds")
    assert entries(engine) == before + 1
    assert balance_of(client, customer.headers, customer.iban) == "20.00"
    assert balance_of(client, bob.headers, bob.iban) == "30.00"
    assert_ledger_consistent(engine)
    deposit(client, admin_headers, customer.iban, "50.00")
    assert advance(client, admin_headers, days=10)["executed"] == {}  # a failure is not retried


def test_a_transfer_to_an_account_gone_by_its_date_fails_as_account_not_found(
    client: TestClient, customer: AuthedUser, admin_headers: dict[str, str]
) -> None:
    today = freeze(client, admin_headers).date()
    deposit(client, admin_headers, customer.iban, "50.00")
    bob = register_customer(client, "bob")
    scheduled = schedule(client, customer, bob.iban, "10.00", today + timedelta(days=1))
    assert client.delete(f"/customer/{bob.customer_oid}", headers=admin_headers).status_code == 200
    assert advance(client, admin_headers, days=1)["executed"] == {"transfer.failed": 1}
    failed = get_transfer(client, customer, scheduled["id"])
    assert (failed["status"], failed["failure_reason"]) == ("failed", "account_not_found")
    assert balance_of(client, customer.headers, customer.iban) == "50.00"


def test_cancelling_a_scheduled_transfer(
    client: TestClient, customer: AuthedUser, admin_headers: dict[str, str]
) -> None:
    today = freeze(client, admin_headers).date()
    deposit(client, admin_headers, customer.iban, "50.00")
    bob = register_customer(client, "bob")
    scheduled = schedule(client, customer, bob.iban, "10.00", today + timedelta(days=2))

    # Only its sender cancels it; the recipient does not see it, others neither.
    assert client.delete(f"/transfers/{scheduled['id']}", headers=bob.headers).status_code == 404
    assert client.delete(f"/transfers/{scheduled['id']}", headers=admin_headers).status_code == 403
    assert client.delete(f"/transfers/{scheduled['id']}").status_code == 401
    assert client.delete("/transfers/abc", headers=customer.headers).status_code == 400
    assert client.delete("/transfers/999999999", headers=customer.headers).status_code == 404

    cancelled = client.delete(f"/transfers/{scheduled['id']}", headers=customer.headers)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json() == {**scheduled, "status": "cancelled"}
    again = client.delete(f"/transfers/{scheduled['id']}", headers=customer.headers)
    assert again.status_code == 409
    assert "cancelled" in again.json()["detail"]
    assert advance(client, admin_headers, days=5)["executed"] == {}
    assert balance_of(client, customer.headers, customer.iban) == "50.00"
    assert get_transfer(client, customer, scheduled["id"])["status"] == "cancelled"

    now = client.post(
        "/transfers", json=transfer_body(customer.iban, bob.iban, "5.00"), headers=customer.headers
    )
    assert (
        client.delete(f"/transfers/{now.json()['id']}", headers=customer.headers).status_code == 409
    )


def test_execute_on_must_be_a_later_sandbox_date_and_the_accounts_are_checked_at_once(
    client: TestClient, customer: AuthedUser, admin_headers: dict[str, str]
) -> None:
    today = at(advance(client, admin_headers, days=400)["to"]).date()  # the sandbox's today
    bob = register_customer(client, "bob")
    for day in (today, today - timedelta(days=1)):
        response = client.post(
            "/transfers",
            json={**transfer_body(customer.iban, bob.iban, "1.00"), "execute_on": day.isoformat()},
            headers=customer.headers,
        )
        assert response.status_code == 422
        assert today.isoformat() in response.json()["detail"]
    for bad in ("tomorrow", "2027-02-30", 20270101):
        response = client.post(
            "/transfers",
            json={**transfer_body(customer.iban, bob.iban, "1.00"), "execute_on": bad},
            headers=customer.headers,
        )
        assert response.status_code == 422
    # No funds are needed to schedule, but the accounts must exist and hold the currency.
    later = (today + timedelta(days=1)).isoformat()
    unknown = client.post(
        "/transfers",
        json={**transfer_body(customer.iban, "NL91ABNA0417164300", "1.00"), "execute_on": later},
        headers=customer.headers,
    )
    assert unknown.status_code == 404
    theirs = client.post(
        "/transfers",
        json={**transfer_body(bob.iban, customer.iban, "1.00"), "execute_on": later},
        headers=customer.headers,
    )
    assert theirs.status_code == 404
    assert client.get("/transfers", headers=customer.headers).json()["items"] == []


def test_a_scheduled_transfer_replays_by_its_idempotency_key(
    client: TestClient, customer: AuthedUser, admin_headers: dict[str, str]
) -> None:
    today = freeze(client, admin_headers).date()
    bob = register_customer(client, "bob")
    on = today + timedelta(days=5)
    first = schedule(client, customer, bob.iban, "10.00", on, **{"Idempotency-Key": "k-1"})
    replay = schedule(client, customer, bob.iban, "10.00", on, **{"Idempotency-Key": "k-1"})
    assert replay == first
    other_day = client.post(
        "/transfers",
        json={
            **transfer_body(customer.iban, bob.iban, "10.00"),
            "execute_on": (on + timedelta(days=1)).isoformat(),
        },
        headers={**customer.headers, "Idempotency-Key": "k-1"},
    )
    assert other_day.status_code == 422
    assert len(client.get("/transfers", headers=customer.headers).json()["items"]) == 1


def test_two_advances_at_once_run_a_due_transfer_once(
    app: FastAPI,
    client: TestClient,
    engine: Engine,
    customer: AuthedUser,
    admin_headers: dict[str, str],
) -> None:
    today = freeze(client, admin_headers).date()
    deposit(client, admin_headers, customer.iban, "100.00")
    bob = register_customer(client, "bob")
    for offset in range(1, 4):
        schedule(client, customer, bob.iban, "10.00", today + timedelta(days=offset))

    def three_days(c: TestClient, _: int) -> dict[str, Any]:
        return advance(c, admin_headers, days=3)

    moves = run_at_once(app, 2, three_days)
    ran = sum(m["executed"].get("transfer.completed", 0) for m in moves)
    assert ran == 3
    assert balance_of(client, bob.headers, bob.iban) == "30.00"
    assert_ledger_consistent(engine)


def test_an_advance_that_crashes_midway_leaves_everything_as_before_and_runs_it_once_later(
    app: FastAPI,
    client: TestClient,
    engine: Engine,
    customer: AuthedUser,
    admin_headers: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    frozen_at = freeze(client, admin_headers)
    deposit(client, admin_headers, customer.iban, "100.00")
    bob = register_customer(client, "bob")
    first = schedule(client, customer, bob.iban, "10.00", frozen_at.date() + timedelta(days=1))
    second = schedule(client, customer, bob.iban, "20.00", frozen_at.date() + timedelta(days=2))
    before = entries(engine)
    book = transfers._book
    calls = 0

    def crash_on_the_second(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("the process dies here")
        return book(*args, **kwargs)

    monkeypatch.setattr(transfers, "_book", crash_on_the_second)
    with TestClient(app, raise_server_exceptions=False) as crashing:
        response = crashing.post("/sandbox/clock/advance", json={"days": 3}, headers=admin_headers)
    assert response.status_code == 500
    assert calls == 2  # the first had been booked in the unit of work that rolled back
    assert at(client.get("/sandbox/clock", headers=admin_headers).json()["now"]) == frozen_at
    assert entries(engine) == before
    assert get_transfer(client, customer, first["id"])["status"] == "scheduled"
    assert balance_of(client, customer.headers, customer.iban) == "100.00"

    monkeypatch.setattr(transfers, "_book", book)
    assert advance(client, admin_headers, days=3)["executed"] == {"transfer.completed": 2}
    assert entries(engine) == before + 2
    assert get_transfer(client, customer, second["id"])["status"] == "completed"
    assert balance_of(client, customer.headers, customer.iban) == "70.00"
    assert_ledger_consistent(engine)


def wait_for_status(
    client: TestClient, headers: dict[str, str], transfer_id: int, status: str
) -> dict[str, Any]:
    deadline = time_module.monotonic() + 20
    while True:
        response = client.get(f"/transfers/{transfer_id}", headers=headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["status"] == status or time_module.monotonic() > deadline:
            return body
        time_module.sleep(0.05)


def test_in_real_mode_due_transfers_run_by_themselves_in_the_default_bank_and_open_sandboxes(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(settings.model_copy(update={"clock_tick_seconds": 0.05}))
    with TestClient(app) as client:
        create_staff_user(app.state.engine, "root.admin", "admin-password-123", role="admin")
        admin = logon_headers(client, "root.admin", "admin-password-123")
        alice, bob = register_customer(client, "alice"), register_customer(client, "bob")
        deposit(client, admin, alice.iban, "10.00")
        tomorrow = clock.utcnow().date() + timedelta(days=1)
        in_default = schedule(client, alice, bob.iban, "4.00", tomorrow)

        created = create(client)
        sandbox_admin = admin_of(client, created)
        carol, dave = register_in(client, created, "carol"), register_in(client, created, "dave")
        deposit(client, sandbox_admin, carol["account"]["iban"], "10.00")
        carol_user = AuthedUser(
            username="carol",
            password="correct-horse-battery",
            customer_oid=carol["customer_oid"],
            iban=carol["account"]["iban"],
            headers=carol["headers"],
            refresh_token="",
        )
        in_sandbox = schedule(client, carol_user, dave["account"]["iban"], "6.00", tomorrow)

        # Nothing is due yet: the ticks leave both alone.
        time_module.sleep(0.3)
        assert get_transfer(client, alice, in_default["id"])["status"] == "scheduled"

        # A day of wall-clock time passes (real mode: the sandboxes' clocks flow with it).
        wall = clock.utcnow
        monkeypatch.setattr(clock, "utcnow", lambda: wall() + timedelta(days=1))
        done = wait_for_status(client, alice.headers, in_default["id"], "completed")
        assert done["status"] == "completed"
        assert (
            wait_for_status(client, carol["headers"], in_sandbox["id"], "completed")["status"]
            == "completed"
        )
        assert balance_of(client, bob.headers, bob.iban) == "4.00"
        assert balance_of(client, dave["headers"], dave["account"]["iban"]) == "6.00"
        assert_ledger_consistent(app.state.engine)
