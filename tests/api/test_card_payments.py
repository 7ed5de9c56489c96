"""Card payments with holds: a hold lowers the available balance at once and the booked one only
when it posts (after the settlement delay on the sandbox's clock, or on request); released, it
books nothing. Every debit is checked against the available balance."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.core.config import Settings
from app.core.db import new_session
from app.core.due import day_start
from app.main import create_app
from app.services import clock
from tests.api.test_clock import advance, at, freeze
from tests.utils.auth import AuthedUser, create_staff_user, logon_headers, register_customer
from tests.utils.concurrency import run_at_once
from tests.utils.money import assert_ledger_consistent, deposit, transfer_body

PATH = "/sandbox/simulate/card-payment"


def card_body(iban: str, amount: str, **extra: Any) -> dict[str, Any]:
    return {
        "iban": iban,
        "amount": amount,
        "currency": "EUR",
        "merchant": "Albert Heijn",
        "category": "groceries",
        **extra,
    }


def hold(client: TestClient, headers: dict[str, str], iban: str, amount: str, **extra: Any) -> Any:
    response = client.post(PATH, json=card_body(iban, amount, **extra), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def account(client: TestClient, user: AuthedUser) -> dict[str, Any]:
    response = client.get(f"/accounts/{user.iban}", headers=user.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def balances(client: TestClient, user: AuthedUser) -> tuple[str, str]:
    found = account(client, user)
    return found["balance"], found["available_balance"]


def test_a_hold_lowers_available_at_once_and_booked_only_when_it_posts(
    client: TestClient, engine: Engine, customer: AuthedUser, admin_headers: dict[str, str]
) -> None:
    now = freeze(client, admin_headers)
    deposit(client, admin_headers, customer.iban, "100.00")

    held = hold(client, admin_headers, customer.iban, "30.25", merchant="Jumbo")
    assert held["status"] == "held"
    assert (held["amount"], held["currency"], held["merchant"], held["category"]) == (
        "30.25",
        "EUR",
        "Jumbo",
        "groceries",
    )
    assert at(held["held_at"]) == now
    # CARD_SETTLEMENT_DAYS later, at the start of that day
    settles = day_start(now.date() + timedelta(days=2))
    assert at(held["settles_at"]) == settles
    assert held["posted_at"] is None
    assert held["entry_id"] is None
    assert balances(client, customer) == ("100.00", "69.75")

    # The overview and the statement show both balances and the pending payment.
    overview = client.get("/accounts/overview", headers=customer.headers).json()
    assert [(a["balance"], a["available_balance"]) for a in overview["accounts"]] == [
        ("100.00", "69.75")
    ]
    assert [p["id"] for p in overview["pending"]] == [held["id"]]
    statement = client.get(f"/accounts/{customer.iban}/transactions", headers=customer.headers)
    page = statement.json()
    assert (page["balance"], page["available_balance"]) == ("100.00", "69.75")
    assert [p["id"] for p in page["pending"]] == [held["id"]]
    assert [line["kind"] for line in page["items"]] == ["deposit"]  # no line until it posts

    # A day later it is still held; two days later it has posted, at its settlement moment.
    assert advance(client, admin_headers, days=1)["executed"] == {}
    assert balances(client, customer) == ("100.00", "69.75")
    assert advance(client, admin_headers, days=1)["executed"] == {"card_payment.posted": 1}
    assert balances(client, customer) == ("69.75", "69.75")
    posted = client.get(f"{PATH}/{held['id']}", headers=admin_headers).json()
    assert posted["status"] == "posted"
    assert at(posted["posted_at"]) == settles

    page = client.get(f"/accounts/{customer.iban}/transactions", headers=customer.headers).json()
    line = page["items"][0]
    assert (line["kind"], line["amount"], line["balance_after"]) == (
        "card_payment",
        "-30.25",
        "69.75",
    )
    assert (line["entry_id"], line["counterparty_name"]) == (posted["entry_id"], "Jumbo")
    assert at(line["created_at"]) == settles
    assert page["pending"] == []
    assert client.get("/accounts/overview", headers=customer.headers).json()["pending"] == []

    # The portfolio's history shows it as a card payment in its spending category.
    history = client.get(
        f"/user-portfolio/{customer.customer_oid}/transactions", headers=customer.headers
    ).json()["transactions"]
    card = [t for t in history if t["transaction_type"] == "card"]
    assert [(t["amount"], t["category"], t["counterparty"]) for t in card] == [
        ("-30.25", "groceries", "Jumbo")
    ]
    # And it counts in the customer's spending for the month it posted in.
    portfolio = client.get(
        f"/user-portfolio/{customer.customer_oid}", headers=customer.headers
    ).json()
    assert [(s["month"], s["category"], s["amount"]) for s in portfolio["spending"]] == [
        (settles.strftime("%Y-%m"), "groceries", "30.25")
    ]
    another = hold(client, admin_headers, customer.iban, "4.75", merchant="Lidl")
    assert client.post(f"{PATH}/{another['id']}/settle", headers=admin_headers).status_code == 200
    portfolio = client.get(
        f"/user-portfolio/{customer.customer_oid}", headers=customer.headers
    ).json()
    groceries = [s for s in portfolio["spending"] if s["category"] == "groceries"]
    assert sum(Decimal(s["amount"]) for s in groceries) == Decimal("35.00")
    assert_ledger_consistent(engine)


def test_a_transfer_beyond_the_available_balance_is_refused_though_booked_would_allow_it(
    client: TestClient,
    engine: Engine,
    customer: AuthedUser,
    other_customer: AuthedUser,
    admin_headers: dict[str, str],
) -> None:
    deposit(client, admin_headers, customer.iban, "100.00")
    hold(client, admin_headers, customer.iban, "60.00")

    refused = client.post(
        "/transfers",
        json=transfer_body(customer.iban, other_customer.iban, "50.00"),
        headers=customer.headers,
    )
    assert refused.status_code == 422
    assert "available 40.00 EUR" in refused.json()["detail"]
    assert "card payments held 60.00" in refused.json()["detail"]
    # A withdrawal is a debit like any other.
    withdrawn = client.post(
        f"/admin/accounts/{customer.iban}/withdraw", json={"amount": "40.01"}, headers=admin_headers
    )
    assert withdrawn.status_code == 422
    # A second hold beyond what is left is declined.
    declined = client.post(PATH, json=card_body(customer.iban, "40.01"), headers=admin_headers)
    assert declined.status_code == 422
    assert "declined" in declined.json()["detail"]
    assert balances(client, customer) == ("100.00", "40.00")

    allowed = client.post(
        "/transfers",
        json=transfer_body(customer.iban, other_customer.iban, "40.00"),
        headers=customer.headers,
    )
    assert allowed.status_code == 201, allowed.text
    assert balances(client, customer) == ("60.00", "0.00")
    assert_ledger_consistent(engine)


def test_a_scheduled_transfer_that_the_holds_leave_no_room_for_fails(
    client: TestClient,
    engine: Engine,
    customer: AuthedUser,
    other_customer: AuthedUser,
    admin_headers: dict[str, str],
) -> None:
    today = freeze(client, admin_headers).date()
    deposit(client, admin_headers, customer.iban, "100.00")
    scheduled = client.post(
        "/transfers",
        json={
            **transfer_body(customer.iban, other_customer.iban, "80.00"),
            "execute_on": (today + timedelta(days=1)).isoformat(),
        },
        headers=customer.headers,
    ).json()
    hold(client, admin_headers, customer.iban, "30.00")  # settles in two days

    assert advance(client, admin_headers, days=1)["executed"] == {"transfer.failed": 1}
    failed = client.get(f"/transfers/{scheduled['id']}", headers=customer.headers).json()
    assert (failed["status"], failed["failure_reason"]) == ("failed", "insufficient_funds")
    assert advance(client, admin_headers, days=1)["executed"] == {"card_payment.posted": 1}
    assert balances(client, customer) == ("70.00", "70.00")
    assert_ledger_consistent(engine)


def test_settling_on_request_posts_now_and_only_once(
    client: TestClient, engine: Engine, customer: AuthedUser, admin_headers: dict[str, str]
) -> None:
    now = freeze(client, admin_headers)
    deposit(client, admin_headers, customer.iban, "50.00")
    held = hold(client, admin_headers, customer.iban, "12.34")

    settled = client.post(f"{PATH}/{held['id']}/settle", headers=admin_headers)
    assert settled.status_code == 200, settled.text
    assert settled.json()["status"] == "posted"
    assert at(settled.json()["posted_at"]) == now
    assert balances(client, customer) == ("37.66", "37.66")

    for action in ("settle", "release"):
        again = client.post(f"{PATH}/{held['id']}/{action}", headers=admin_headers)
        assert again.status_code == 409
        assert "is posted" in again.json()["detail"]
    # Its settlement moment passes: nothing more happens.
    assert advance(client, admin_headers, days=3)["executed"] == {}
    assert balances(client, customer) == ("37.66", "37.66")
    assert_ledger_consistent(engine)


def test_a_released_hold_books_nothing_and_frees_the_money(
    client: TestClient, engine: Engine, customer: AuthedUser, admin_headers: dict[str, str]
) -> None:
    freeze(client, admin_headers)
    deposit(client, admin_headers, customer.iban, "50.00")
    held = hold(client, admin_headers, customer.iban, "50.00")
    assert balances(client, customer) == ("50.00", "0.00")

    released = client.post(f"{PATH}/{held['id']}/release", headers=admin_headers)
    assert released.status_code == 200, released.text
    assert released.json()["status"] == "released"
    assert released.json()["released_at"] is not None
    assert balances(client, customer) == ("50.00", "50.00")
    assert advance(client, admin_headers, days=5)["executed"] == {}
    assert client.post(f"{PATH}/{held['id']}/settle", headers=admin_headers).status_code == 409
    lines = client.get(f"/accounts/{customer.iban}/transactions", headers=customer.headers)
    assert [line["kind"] for line in lines.json()["items"]] == ["deposit"]
    assert_ledger_consistent(engine)


def test_bad_card_payments_are_refused_and_hold_nothing(
    client: TestClient,
    customer: AuthedUser,
    admin_headers: dict[str, str],
    analyst_headers: dict[str, str],
) -> None:
    deposit(client, admin_headers, customer.iban, "10.00")
    body = card_body(customer.iban, "1.00")
    # Only admins simulate payments.
    assert client.post(PATH, json=body).status_code == 401
    assert client.post(PATH, json=body, headers=customer.headers).status_code == 403
    assert client.post(PATH, json=body, headers=analyst_headers).status_code == 403

    cases = [
        ({"iban": "NL91ABNA0417164300"}, 404),  # valid, but no account of this bank
        ({"iban": "NL00NOPE"}, 422),
        ({"currency": "USD"}, 422),
        ({"amount": "0"}, 422),
        ({"amount": "1.001"}, 422),
        ({"amount": "10.01"}, 422),  # beyond the available balance
        ({"category": "Groceries!"}, 422),
        ({"category": ""}, 422),
        ({"merchant": " "}, 422),
    ]
    for change, expected in cases:
        response = client.post(PATH, json={**body, **change}, headers=admin_headers)
        assert response.status_code == expected, (change, response.text)
        assert "detail" in response.json()
    assert balances(client, customer) == ("10.00", "10.00")

    assert client.get(f"{PATH}/999999", headers=admin_headers).status_code == 404
    assert client.post(f"{PATH}/99999999999/settle", headers=admin_headers).status_code == 404
    assert client.post(f"{PATH}/abc/release", headers=admin_headers).status_code == 400
    held = hold(client, admin_headers, customer.iban, "1.00")
    assert client.get(f"{PATH}/{held['id']}", headers=customer.headers).status_code == 403


def test_two_holds_at_once_never_spend_more_than_is_available(
    app: FastAPI,
    client: TestClient,
    engine: Engine,
    customer: AuthedUser,
    admin_headers: dict[str, str],
) -> None:
    deposit(client, admin_headers, customer.iban, "100.00")

    def place(c: TestClient, _: int) -> int:
        return c.post(
            PATH, json=card_body(customer.iban, "60.00"), headers=admin_headers
        ).status_code

    assert sorted(run_at_once(app, 2, place)) == [201, 422]
    assert balances(client, customer) == ("100.00", "40.00")
    assert_ledger_consistent(engine)


def test_deleting_a_customer_releases_its_holds(
    client: TestClient,
    engine: Engine,
    customer: AuthedUser,
    admin_headers: dict[str, str],
) -> None:
    deposit(client, admin_headers, customer.iban, "80.00")
    held = hold(client, admin_headers, customer.iban, "25.00")

    deleted = client.delete(f"/customer/{customer.customer_oid}", headers=admin_headers)
    assert deleted.status_code in (200, 204), deleted.text
    assert client.get(f"{PATH}/{held['id']}", headers=admin_headers).status_code == 404
    totals = assert_ledger_consistent(engine)
    assert totals.funding_balances["EUR"] == 0  # all of it went back to the bank


@pytest.fixture
def settled_at_once(settings: Settings) -> Settings:
    return settings.model_copy(update={"card_settlement_days": 0, "clock_tick_seconds": 3600})


def test_the_settlement_delay_is_a_setting_and_due_holds_post_as_time_flows(
    settled_at_once: Settings,
) -> None:
    with TestClient(create_app(settled_at_once)) as client:
        engine = client.app.state.engine  # type: ignore[attr-defined]
        create_staff_user(engine, "card.admin", "admin-password-123", role="admin")
        admin = logon_headers(client, "card.admin", "admin-password-123")
        alice = register_customer(client, "alice")
        deposit(client, admin, alice.iban, "20.00")
        held = hold(client, admin, alice.iban, "5.00")
        assert held["settles_at"] == held["held_at"]  # never before it was made

        # The background step (real mode) posts what fell due.
        with new_session(engine) as session:
            assert clock.catch_up(session=session, settings=settled_at_once) == {
                "card_payment.posted": 1
            }
        with new_session(engine) as session:
            assert clock.catch_up(session=session, settings=settled_at_once) == {}
        assert balances(client, alice) == ("15.00", "15.00")
        assert_ledger_consistent(engine)
