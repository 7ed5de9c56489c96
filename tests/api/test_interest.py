"""Interest on saving accounts: admins set a rate per currency; the sandbox's clock pays each
month's interest, accrued daily on the booked balance and rounded half to even, at the start of
the next month, from the bank's funding account."""

from __future__ import annotations

import calendar
import time as time_module
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.core.config import Settings
from app.main import create_app
from app.services import clock
from tests.api.test_clock import advance, at, freeze
from tests.utils.auth import AuthedUser, create_staff_user, logon_headers, register_customer
from tests.utils.money import (
    assert_ledger_consistent,
    balance_of,
    deposit,
    open_account,
    transfer_body,
)


def set_rate(client: TestClient, headers: dict[str, str], currency: str, percent: str) -> Any:
    return client.put(
        f"/admin/interest-rates/{currency}", json={"annual_percent": percent}, headers=headers
    )


def move(client: TestClient, user: AuthedUser, source: str, target: str, amount: str) -> None:
    response = client.post(
        "/transfers", json=transfer_body(source, target, amount), headers=user.headers
    )
    assert response.status_code == 201, response.text


def a_common_year(client: TestClient, headers: dict[str, str]) -> int:
    """A year after the sandbox's that is not a leap year (365 days: the figures below)."""
    year = freeze(client, headers).year + 1
    while calendar.isleap(year):
        year += 1
    return year


def test_a_month_of_interest_is_the_figure_computed_by_hand(
    client: TestClient, engine: Engine, customer: AuthedUser, admin_headers: dict[str, str]
) -> None:
    year = a_common_year(client, admin_headers)
    assert set_rate(client, admin_headers, "EUR", "2.5").status_code == 200
    advance(client, admin_headers, to=f"{year}-03-01T00:00:00Z")
    saving = open_account(client, customer.headers, "saving")
    deposit(client, admin_headers, customer.iban, "1000.00")
    move(client, customer, customer.iban, saving, "1000.00")  # 1 March, 00:00
    advance(client, admin_headers, to=f"{year}-03-11T00:00:00Z")
    move(client, customer, saving, customer.iban, "500.00")  # 11 March, 00:00
    # Someone who saves 1825.00 on the month's last day: 1825 x 2.5 % / 365 = 0.125 exactly.
    bob = register_customer(client, "bob")
    bob_saving = open_account(client, bob.headers, "saving")
    advance(client, admin_headers, to=f"{year}-03-31T12:00:00Z")
    deposit(client, admin_headers, bob.iban, "1825.00")
    move(client, bob, bob.iban, bob_saving, "1825.00")

    advanced = advance(client, admin_headers, to=f"{year}-04-01T06:00:00Z")

    assert advanced["executed"] == {"interest.paid": 2}
    # 10 days at 1000.00 and 21 at 500.00 (the end-of-day balances), 2.5 % over 365 days.
    by_hand = (10 * Decimal("1000") + 21 * Decimal("500")) * Decimal("0.025") / 365
    assert by_hand.quantize(Decimal("0.01")) == Decimal("1.40")
    assert balance_of(client, customer.headers, saving) == "501.40"
    # 0.125 rounds half to even: 0.12 (half up would pay 0.13).
    assert Decimal("0.125").quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN) == Decimal("0.12")
    assert balance_of(client, bob.headers, bob_saving) == "1825.12"

    [line] = [
        item
        for item in client.get(f"/accounts/{saving}/transactions", headers=customer.headers).json()[
            "items"
        ]
        if item["kind"] == "interest"
    ]
    assert (line["amount"], line["description"]) == ("1.40", f"Interest March {year}")
    assert at(line["created_at"]) == datetime(year, 4, 1, tzinfo=UTC)
    assert line["counterparty_name"] == "OpenBank sandbox funding"
    history = client.get(
        f"/user-portfolio/{customer.customer_oid}/transactions",
        params={"type": "interest"},
        headers=customer.headers,
    ).json()["transactions"]
    assert [(t["amount"], t["currency"]) for t in history] == [("1.40", "EUR")]
    assert_ledger_consistent(engine)

    # The month is paid once: more time in April pays nothing more until May begins.
    assert advance(client, admin_headers, days=20)["executed"] == {}
    assert balance_of(client, customer.headers, saving) == "501.40"


def test_no_rate_no_interest_and_checking_accounts_earn_none(
    client: TestClient, customer: AuthedUser, admin_headers: dict[str, str]
) -> None:
    year = a_common_year(client, admin_headers)
    advance(client, admin_headers, to=f"{year}-05-01T00:00:00Z")
    saving = open_account(client, customer.headers, "saving")
    deposit(client, admin_headers, customer.iban, "1000.00")
    move(client, customer, customer.iban, saving, "400.00")
    assert client.delete("/admin/interest-rates/EUR", headers=admin_headers).status_code == 204
    assert advance(client, admin_headers, to=f"{year}-06-02T00:00:00Z")["executed"] == {}
    assert set_rate(client, admin_headers, "EUR", "3").status_code == 201
    assert advance(client, admin_headers, to=f"{year}-07-01T00:00:00Z")["executed"] == {
        "interest.paid": 1  # June, on the saving account only
    }
    expected = (30 * Decimal("400") * Decimal("0.03") / 365).quantize(Decimal("0.01"))
    assert balance_of(client, customer.headers, saving) == str(Decimal("400.00") + expected)
    assert balance_of(client, customer.headers, customer.iban) == "600.00"


def test_admins_manage_the_rates(
    client: TestClient, customer: AuthedUser, admin_headers: dict[str, str]
) -> None:
    listed = client.get("/admin/interest-rates", headers=admin_headers)
    assert listed.status_code == 200
    assert {(r["currency"], r["annual_percent"]) for r in listed.json()} == {
        ("EUR", "1.50"),
        ("GBP", "1.75"),
        ("USD", "2.00"),
    }
    assert set_rate(client, admin_headers, "usd", "4.25").json()["annual_percent"] == "4.25"
    got = client.get("/admin/interest-rates/USD", headers=admin_headers)
    assert got.json()["annual_percent"] == "4.25"
    assert client.delete("/admin/interest-rates/USD", headers=admin_headers).status_code == 204
    assert client.get("/admin/interest-rates/USD", headers=admin_headers).status_code == 404
    assert client.delete("/admin/interest-rates/USD", headers=admin_headers).status_code == 404
    assert client.get("/admin/interest-rates", headers=customer.headers).status_code == 403
    assert client.get("/admin/interest-rates").status_code == 401


@pytest.mark.parametrize(
    ("currency", "percent", "says"),
    [
        ("EUR", "0", "greater than 0"),
        ("EUR", "-1", "no sign"),
        ("EUR", "100.5", "at most 100"),
        ("EUR", "1.123456789", "decimal"),
        ("SEK", "1", "not supported"),
    ],
)
def test_bad_rates_are_refused(
    client: TestClient, admin_headers: dict[str, str], currency: str, percent: str, says: str
) -> None:
    response = set_rate(client, admin_headers, currency, percent)
    assert response.status_code == 422
    assert says in str(response.json()["detail"])
    assert (
        client.get("/admin/interest-rates/EUR", headers=admin_headers).json()["annual_percent"]
        == "1.50"
    )


def test_in_real_mode_interest_is_paid_by_itself_once_a_month_ends(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(settings.model_copy(update={"clock_tick_seconds": 0.05}))
    with TestClient(app) as client:
        create_staff_user(app.state.engine, "root.admin", "admin-password-123", role="admin")
        admin = logon_headers(client, "root.admin", "admin-password-123")
        alice = register_customer(client, "alice")
        saving = open_account(client, alice.headers, "saving")
        deposit(client, admin, alice.iban, "1000.00")
        move(client, alice, alice.iban, saving, "1000.00")
        opened = clock.utcnow().date()
        time_module.sleep(0.3)  # the first ticks: where the bank's time starts counting

        wall = clock.utcnow
        monkeypatch.setattr(clock, "utcnow", lambda: wall() + timedelta(days=40))
        later = opened + timedelta(days=40)
        expected = Decimal("1000.00")
        day, first = opened, opened
        while True:  # each month that ended by then, from the day the account was opened
            after = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
            if after > later:
                break
            year_days = 366 if calendar.isleap(day.year) else 365
            days = (after - first).days
            expected += (days * Decimal("1000.00") * Decimal("0.015") / year_days).quantize(
                Decimal("0.01"), rounding=ROUND_HALF_EVEN
            )
            day = first = after
        deadline = time_module.monotonic() + 20
        while balance_of(client, alice.headers, saving) != str(expected):
            assert time_module.monotonic() < deadline, balance_of(client, alice.headers, saving)
            time_module.sleep(0.05)
        time_module.sleep(0.3)  # more ticks pay nothing more
        assert balance_of(client, alice.headers, saving) == str(expected)
        assert_ledger_consistent(app.state.engine)
