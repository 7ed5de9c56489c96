"""Helpers that move money through the API and check the ledger's invariants in the database."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from app.core.db import new_session
from app.models.account import Account
from app.models.card_payment import CardPayment, CardPaymentStatus
from app.models.funding_account import FundingAccount
from app.models.institution import Institution
from app.models.journal_entry import JournalEntry
from app.models.posting import Posting


def deposit(
    client: TestClient,
    admin_headers: dict[str, str],
    iban: str,
    amount: str,
    description: str = "Sandbox top-up",
) -> dict[str, Any]:
    response = client.post(
        f"/admin/accounts/{iban}/deposit",
        json={"amount": amount, "description": description},
        headers=admin_headers,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def transfer_body(
    from_iban: str,
    to_iban: str,
    amount: str,
    currency: str = "EUR",
    description: str = "test transfer",
) -> dict[str, str]:
    return {
        "from_iban": from_iban,
        "to_iban": to_iban,
        "amount": amount,
        "currency": currency,
        "description": description,
    }


def open_account(
    client: TestClient, headers: dict[str, str], account_type: str, currency: str = "EUR"
) -> str:
    response = client.post(
        "/accounts/open",
        json={"account_type": account_type, "currency": currency},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    iban: str = response.json()["iban"]
    return iban


def balance_of(client: TestClient, headers: dict[str, str], iban: str) -> str:
    response = client.get(f"/accounts/{iban}", headers=headers)
    assert response.status_code == 200, response.text
    balance: str = response.json()["balance"]
    return balance


@dataclass
class LedgerTotals:
    customer_balances: dict[str, Decimal]  # per currency
    funding_balances: dict[str, Decimal]
    entries: int
    postings: int
    entries_by_kind: dict[str, int]


def assert_ledger_consistent(engine: Engine) -> LedgerTotals:
    """Every rule of the ledger, checked against the rows in the database."""
    with new_session(engine) as session:
        # Every journal entry: two or more postings, summing to zero per currency.
        per_entry = session.exec(
            select(
                Posting.journal_entry_id,
                Posting.currency,
                func.count(),
                func.sum(Posting.amount),
            ).group_by(col(Posting.journal_entry_id), col(Posting.currency))
        ).all()
        counts: dict[int, int] = defaultdict(int)
        for entry_id, currency, count, total in per_entry:
            assert total == 0, f"entry {entry_id} does not balance in {currency}: {total}"
            counts[entry_id] += count
        entries = session.exec(select(JournalEntry)).all()
        assert {e.id for e in entries} == set(counts), "an entry without postings"
        assert all(count >= 2 for count in counts.values())

        # Every ledger account: balance == sum of postings; balance_after is the running sum.
        postings = session.exec(select(Posting).order_by(col(Posting.id))).all()
        running: dict[tuple[str, int], Decimal] = defaultdict(Decimal)
        for posting in postings:
            if posting.account_id is None and posting.funding_account_id is None:
                continue  # on an account closed when its customer was deleted: history only
            key = (
                ("account", posting.account_id)
                if posting.account_id is not None
                else ("funding", posting.funding_account_id or 0)
            )
            running[key] += posting.amount
            assert posting.balance_after == running[key], f"posting {posting.id} balance_after"
        # Accounts at other institutions (aggregated) are not in the ledger.
        accounts = session.exec(
            select(Account)
            .join(Institution, col(Institution.id) == col(Account.institution_id))
            .where(col(Institution.is_own_bank))
        ).all()
        # What an account has held is the sum of its card payments still held, within its
        # balance.
        held: dict[int, Decimal] = defaultdict(Decimal)
        for payment in session.exec(
            select(CardPayment).where(col(CardPayment.status) == CardPaymentStatus.held)
        ).all():
            held[payment.account_id] += payment.amount
        for account in accounts:
            assert account.balance >= 0, f"negative balance on {account.iban}"
            assert account.balance == running.get(("account", account.id or 0), Decimal(0))
            assert account.held == held.get(account.id or 0, Decimal(0)), f"held on {account.iban}"
            assert 0 <= account.held <= account.balance
        funds = session.exec(select(FundingAccount)).all()
        for fund in funds:
            assert fund.balance == running.get(("funding", fund.id or 0), Decimal(0))

        # Money only enters and leaves through funding: per currency, all balances sum to zero.
        customer_total: dict[str, Decimal] = defaultdict(Decimal)
        for account in accounts:
            customer_total[account.currency] += account.balance
        funding_total = {fund.currency: fund.balance for fund in funds}
        for currency in set(customer_total) | set(funding_total):
            assert customer_total.get(currency, 0) + funding_total.get(currency, 0) == 0
        by_kind: dict[str, int] = defaultdict(int)
        for entry in entries:
            by_kind[entry.kind.value] += 1
        return LedgerTotals(
            customer_balances=dict(customer_total),
            funding_balances=funding_total,
            entries=len(entries),
            postings=len(postings),
            entries_by_kind=dict(by_kind),
        )
