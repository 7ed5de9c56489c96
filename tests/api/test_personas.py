"""Personas: a customer's life, lived a day at a time as the sandbox's clock passes: income,
rent, bills and card spending through the ledger, the same whatever way the clock is moved,
and the portfolio's spending rows the sums of the card payments."""

from __future__ import annotations

import logging
import random
import uuid
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from app.core.config import Settings
from app.core.db import new_session, write_transaction
from app.core.due import day_start
from app.main import create_app
from app.models.account import Account
from app.models.card_payment import CardPayment, CardPaymentStatus
from app.models.journal_entry import EntryKind, JournalEntry
from app.models.persona import Persona, PersonaKind
from app.models.portfolio_transaction import PortfolioTransaction
from app.models.posting import Posting
from app.models.spending import Spending
from app.services import clock, personas, sandboxes
from tests.api.test_clock import advance, at, freeze
from tests.utils.auth import AuthedUser, create_staff_user, logon_headers, register_customer
from tests.utils.money import assert_ledger_consistent, deposit

PATH = "/sandbox/simulate/persona"


def a_month_start(client: TestClient, headers: dict[str, str]) -> date:
    """Freeze the clock at noon on the last day of a month, a year ahead: the next day is a
    1st."""
    year = freeze(client, headers).year + 1
    advance(client, headers, to=f"{year}-02-28T12:00:00Z")
    return date(year, 3, 1)


def give_life(
    client: TestClient, headers: dict[str, str], user: AuthedUser, persona: str, **extra: Any
) -> dict[str, Any]:
    response = client.post(
        PATH, json={"customer_oid": user.customer_oid, "persona": persona, **extra}, headers=headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def statement(client: TestClient, user: AuthedUser) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    before = None
    while True:
        params: dict[str, Any] = {"limit": 200}
        if before:
            params["before"] = before
        page = client.get(
            f"/accounts/{user.iban}/transactions", params=params, headers=user.headers
        ).json()
        lines += page["items"]
        before = page["next_before"]
        if not before:
            return lines[::-1]  # oldest first


def expected_events(
    kind: PersonaKind, seed: int, customer_oid: str, first: date, last: date
) -> list[personas.Event]:
    """What the engine's own generator says these days bring (before any decline)."""
    customer_id = uuid.UUID(customer_oid)
    life = personas.traits(kind, seed, customer_id)
    found = []
    day = first
    while day <= last:
        rng = random.Random(f"day:{seed}:{customer_id}:{day.isoformat()}")
        found += personas.events(life, day, rng)
        day += timedelta(days=1)
    return found


def test_a_salaried_month_brings_salary_rent_bills_and_categorised_spending(
    client: TestClient, engine: Engine, customer: AuthedUser, admin_headers: dict[str, str]
) -> None:
    first = a_month_start(client, admin_headers)
    deposit(client, admin_headers, customer.iban, "5000.00", description="Savings")
    made = give_life(client, admin_headers, customer, "salaried", seed=7)
    assert (made["persona"], made["iban"], made["next_on"]) == (
        "salaried",
        customer.iban,
        first.isoformat(),
    )

    ran = advance(client, admin_headers, days=31)["executed"]  # 1 to 30 March are over
    planned = expected_events(PersonaKind.salaried, 7, customer.customer_oid, first,
                              date(first.year, 3, 30))  # fmt: skip
    cards = [e for e in planned if e.kind == EntryKind.card_payment]
    assert ran["income.received"] == 1
    assert ran["bill.paid"] == 2
    assert ran["card_payment.held"] == len(cards) > 3
    # Held on day d, posted at the start of day d + 2: those of 30 and 31 March still held.
    assert ran["card_payment.posted"] == len([c for c in cards if c.at.day < 30])
    assert "card_payment.declined" not in ran

    lines = statement(client, customer)
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in lines:
        by_kind[line["kind"]].append(line)
    [salary] = by_kind["income"]
    assert salary["description"] == f"Salary March {first.year}"
    assert at(salary["created_at"]).day == 25
    assert [line["description"] for line in by_kind["payment"]] == [
        f"Rent March {first.year}",
        f"Energy March {first.year}",
    ]
    # Every line on the sandbox's March dates, in time order, and the balances run.
    assert all(at(line["created_at"]).month == 3 for line in lines[1:])
    assert [at(line["created_at"]) for line in lines] == sorted(
        at(line["created_at"]) for line in lines
    )
    running = Decimal(0)
    for line in lines:
        running += Decimal(line["amount"])
        assert Decimal(line["balance_after"]) == running

    # Every posting is in the portfolio's history, salary as a salary.
    history = client.get(
        f"/user-portfolio/{customer.customer_oid}/transactions",
        params={"limit": 500},
        headers=customer.headers,
    ).json()["transactions"]
    assert len(history) == len(lines)
    assert sorted(t["transaction_type"] for t in history if t["category"] == "income") == ["salary"]
    assert {t["category"] for t in history if t["transaction_type"] == "payment"} == {
        "rent",
        "utilities",
    }

    # The portfolio's spending rows are the sums of the posted card payments, per category.
    with new_session(engine) as session:
        posted = session.exec(
            select(CardPayment).where(col(CardPayment.status) == CardPaymentStatus.posted)
        ).all()
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for payment in posted:
        sums[payment.category] += payment.amount
    portfolio = client.get(
        f"/user-portfolio/{customer.customer_oid}", headers=customer.headers
    ).json()
    month = f"{first.year}-03"
    spending = {s["category"]: Decimal(s["amount"]) for s in portfolio["spending"]
                if s["month"] == month}  # fmt: skip
    assert spending == dict(sums)
    assert set(spending) <= {"groceries", "dining", "transportation", "shopping",
                             "entertainment", "health", "subscriptions"}  # fmt: skip
    assert_ledger_consistent(engine)


def test_a_life_is_the_same_however_the_clock_is_moved(
    client: TestClient, engine: Engine, customer: AuthedUser, admin_headers: dict[str, str]
) -> None:
    first = a_month_start(client, admin_headers)
    deposit(client, admin_headers, customer.iban, "20000.00")
    give_life(client, admin_headers, customer, "freelancer", seed=3)

    advance(client, admin_headers, days=3)
    for _ in range(6):
        advance(client, admin_headers, hours=20)
    advance(client, admin_headers, days=15)
    last = date(first.year, 3, 22)  # the last day over: 24 days and 120 hours after noon 28 Feb
    assert freeze(client, admin_headers).date() == last + timedelta(days=1)

    planned = expected_events(PersonaKind.freelancer, 3, customer.customer_oid, first, last)
    booked = [
        (at(line["created_at"]), line["amount"], line["counterparty_name"])
        for line in statement(client, customer)
        if line["kind"] in ("income", "payment")
    ]
    assert booked == [
        (e.at, str(Decimal(e.cents).scaleb(-2)), e.counterparty)
        for e in planned
        if e.kind != EntryKind.card_payment
    ]
    with new_session(engine) as session:
        held = session.exec(select(CardPayment).order_by(col(CardPayment.id))).all()
    assert [(p.held_at, p.amount, p.merchant) for p in held] == [
        (e.at, Decimal(-e.cents).scaleb(-2), e.counterparty)
        for e in planned
        if e.kind == EntryKind.card_payment
    ]
    assert_ledger_consistent(engine)


def test_the_same_seed_gives_the_same_life_and_another_seed_another() -> None:
    customer = uuid.uuid4()
    day = date(2030, 6, 1)

    def life(seed: int) -> list[personas.Event]:
        rng = random.Random(f"day:{seed}:{customer}:{day}")
        return personas.events(personas.traits(PersonaKind.salaried, seed, customer), day, rng)

    assert life(1) == life(1)
    assert life(1) != life(2)
    for kind in PersonaKind:
        days = expected_events(kind, 5, str(customer), date(2030, 1, 1), date(2030, 12, 31))
        assert any(e.cents > 0 for e in days), kind  # every life has an income
        assert any(e.category == "rent" for e in days), kind


def test_what_the_balance_cannot_pay_is_declined_and_nothing_goes_below_zero(
    client: TestClient, engine: Engine, customer: AuthedUser, admin_headers: dict[str, str]
) -> None:
    first = a_month_start(client, admin_headers)
    give_life(client, admin_headers, customer, "retiree", seed=11)  # the pension comes on the 23rd

    ran = advance(client, admin_headers, days=10)["executed"]

    planned = expected_events(PersonaKind.retiree, 11, customer.customer_oid, first,
                              first + timedelta(days=8))  # fmt: skip
    cards = [e for e in planned if e.kind == EntryKind.card_payment]
    declined = {"card_payment.declined": len(cards)} if cards else {}
    assert ran == {"bill.failed": 2, **declined}  # the rent and the energy bill
    assert statement(client, customer) == []
    assert_ledger_consistent(engine)


def test_personas_are_listed_and_stopped(
    client: TestClient, customer: AuthedUser, admin_headers: dict[str, str]
) -> None:
    today = freeze(client, admin_headers).date()
    made = give_life(client, admin_headers, customer, "retiree", start_on=today.isoformat())
    assert made["started_on"] == today.isoformat()
    listed = client.get(PATH, headers=admin_headers).json()
    assert [(p["customer_oid"], p["persona"], p["seed"]) for p in listed] == [
        (customer.customer_oid, "retiree", 42)
    ]
    again = client.post(
        PATH, json={"customer_oid": customer.customer_oid, "persona": "student"},
        headers=admin_headers,
    )  # fmt: skip
    assert again.status_code == 409
    stopped = client.delete(f"{PATH}/{customer.customer_oid}", headers=admin_headers)
    assert stopped.status_code == 204
    assert client.get(PATH, headers=admin_headers).json() == []
    assert advance(client, admin_headers, days=5)["executed"] == {}
    assert (
        client.delete(f"{PATH}/{customer.customer_oid}", headers=admin_headers).status_code == 404
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"persona": "astronaut"}, 422),
        ({"seed": -1}, 422),
        ({"start_on": "2000-01-01"}, 422),
        ({"customer_oid": "00000000-0000-4000-8000-000000000000"}, 404),
        ({"customer_oid": "not-a-uuid"}, 422),
    ],
)
def test_bad_personas_are_refused(
    client: TestClient,
    customer: AuthedUser,
    admin_headers: dict[str, str],
    body: dict[str, Any],
    expected: int,
) -> None:
    response = client.post(
        PATH,
        json={"customer_oid": customer.customer_oid, "persona": "salaried", **body},
        headers=admin_headers,
    )
    assert response.status_code == expected, response.text
    assert "detail" in response.json()


def test_only_admins_give_lives_and_a_customer_needs_a_checking_account(
    client: TestClient, customer: AuthedUser, admin_headers: dict[str, str]
) -> None:
    body = {"customer_oid": customer.customer_oid, "persona": "salaried"}
    assert client.post(PATH, json=body).status_code == 401
    assert client.post(PATH, json=body, headers=customer.headers).status_code == 403
    assert client.get(PATH, headers=customer.headers).status_code == 403
    assert client.delete(f"{PATH}/not-a-uuid", headers=admin_headers).status_code == 400

    bare = client.post(
        "/register-customer", json={"name": "No Accounts"}, headers=admin_headers
    ).json()
    refused = client.post(
        PATH, json={"customer_oid": bare["customer_oid"], "persona": "salaried"},
        headers=admin_headers,
    )  # fmt: skip
    assert refused.status_code == 409
    assert "no checking account" in refused.json()["detail"]


def test_days_over_before_due_work_began_are_not_lived_nor_kept_due(
    client: TestClient, engine: Engine, customer: AuthedUser, admin_headers: dict[str, str]
) -> None:
    # A seeded persona: its next day is long past when the bank's clock first ticks.
    today = freeze(client, admin_headers).date()
    give_life(client, admin_headers, customer, "salaried", start_on=today.isoformat())
    with new_session(engine) as session:
        row = session.get(Persona, uuid.UUID(customer.customer_oid))
        assert row is not None
        row.next_on = today - timedelta(days=300)
        session.add(row)
        session.commit()
    settings = client.app.state.sandboxes.settings  # type: ignore[attr-defined]
    with new_session(engine) as session:
        assert clock.catch_up(session=session, settings=settings) == {}  # marks the start
    with new_session(engine) as session:
        # Nothing is due until today is over: the tick takes no write lock for it.
        assert personas.next_due(session=session, after=clock.now(session)) == day_start(
            today + timedelta(days=1)
        ) - timedelta(microseconds=1)
        assert clock.catch_up(session=session, settings=settings) == {}
    assert statement(client, customer) == []


def test_a_busy_bank_waits_for_the_next_tick_without_failing_the_tick(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    hub = client.app.state.sandboxes  # type: ignore[attr-defined]
    engine = client.app.state.engine  # type: ignore[attr-defined]

    def locked(**_: Any) -> dict[str, int]:
        raise OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked"))

    monkeypatch.setattr(clock, "catch_up", locked)
    with caplog.at_level(logging.WARNING):
        assert sandboxes.catch_up_clocks(hub=hub, default=engine) == 0
    assert "waits for the next tick: database is locked" in caplog.text


class _Undo(Exception):
    """Raised to roll a unit of work back once it has been looked at."""


def lived_rows(session: Session, users: list[AuthedUser]) -> dict[str, Any]:
    """What the lives wrote on these customers' accounts, without surrogate ids (PostgreSQL's
    sequences do not roll back), each kind of row in the order it was written."""
    ibans = [user.iban for user in users]
    customers = [uuid.UUID(user.customer_oid) for user in users]
    accounts = session.exec(select(Account).where(col(Account.iban).in_(ibans))).all()
    by_id = {account.id: account.iban for account in accounts}
    lines = session.exec(
        select(Posting, JournalEntry)
        .join(JournalEntry, col(JournalEntry.id) == col(Posting.journal_entry_id))
        .where(col(Posting.account_id).in_(by_id))
        .order_by(col(Posting.id))
    ).all()
    payments = session.exec(
        select(CardPayment).where(col(CardPayment.iban).in_(ibans)).order_by(col(CardPayment.id))
    ).all()
    history = session.exec(
        select(PortfolioTransaction)
        .where(col(PortfolioTransaction.customer_id).in_(customers))
        .order_by(col(PortfolioTransaction.id))
    ).all()
    spent = session.exec(select(Spending).where(col(Spending.customer_id).in_(customers))).all()
    lives = session.exec(select(Persona).order_by(col(Persona.customer_id))).all()
    return {
        "accounts": sorted((a.iban, a.balance, a.held) for a in accounts),
        "postings": [
            (
                by_id[p.account_id],
                p.created_at,
                p.amount,
                p.balance_after,
                p.counterparty_name,
                e.kind,
                e.description,
                e.created_at,
            )
            for p, e in lines
        ],
        "card_payments": [
            (
                p.iban,
                p.amount,
                p.merchant,
                p.category,
                p.status,
                p.held_at,
                p.settles_at,
                p.posted_at,
                p.entry_id is not None,
            )
            for p in payments
        ],
        "portfolio": [
            (
                t.customer_id,
                t.occurred_at,
                t.transaction_type,
                t.amount,
                t.category,
                t.counterparty,
                t.description,
            )
            for t in history
        ],
        "spending": sorted((s.customer_id, s.month, s.category, s.amount) for s in spent),
        "personas": [(p.customer_id, p.next_on) for p in lives],
    }


@pytest.mark.parametrize("settlement_days", [2, 0])
def test_a_history_lived_at_once_is_what_the_clock_lives_day_by_day(
    settings: Settings, settlement_days: int
) -> None:
    """Seeding lives its year in one write (`personas.live_history`); the clock lives the same
    days one at a time, in order with the card payments settling on theirs. Both write the
    same rows, whatever the settlement delay (a hold that settles on its own day posts with
    the next day's work)."""
    changed = settings.model_copy(
        update={"card_settlement_days": settlement_days, "clock_tick_seconds": 3600}
    )
    with TestClient(create_app(changed)) as client:
        engine: Engine = client.app.state.engine  # type: ignore[attr-defined]
        create_staff_user(engine, "life.admin", "admin-password-123", role="admin")
        admin = logon_headers(client, "life.admin", "admin-password-123")
        users = [register_customer(client, name) for name in ("alice", "bob", "carol")]
        first = a_month_start(client, admin)
        for user, kind, amount in zip(
            users, ("salaried", "student", "small_business"), ("2500.00", "60.00", "900.00"),
            strict=True,
        ):  # fmt: skip
            deposit(client, admin, user.iban, amount)
            give_life(client, admin, user, kind, seed=9)
        # 40 days and a morning: the last holds settle in the part of a day after the last one.
        end = day_start(first + timedelta(days=40)) + timedelta(hours=9)

        with new_session(engine) as session:
            try:
                with write_transaction(session):
                    at_once = personas.live_history(
                        session=session, settings=changed, start=day_start(first), end=end
                    )
                    written = lived_rows(session, users)
                    raise _Undo  # the clock lives the same days next, from the same rows
            except _Undo:
                pass
        day_by_day = advance(client, admin, to=end.isoformat())["executed"]
        with new_session(engine) as session:
            assert lived_rows(session, users) == written
        assert {name: day_by_day[name] for name in at_once} == at_once
        assert at_once["card_payment.posted"] > 0
        assert {"income.received", "bill.paid", "card_payment.held"} <= set(at_once)
        assert_ledger_consistent(engine)
