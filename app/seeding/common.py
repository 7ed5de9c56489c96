"""What every part of seeding shares: its fixed clock, the sample logins' passwords, the report,
and the helpers that derive rows from the seed."""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal

import bcrypt
from rich.console import Console
from schwifty import IBAN
from sqlmodel import Session

from app.core.config import Settings
from app.core.db import insert_rows, table_of
from app.models.account import Account, AccountType
from app.models.asset import AssetType
from app.models.derivative_transaction import (
    DerivativeSide,
    DerivativeStatus,
    DerivativeType,
)
from app.models.journal_entry import EntryKind
from app.models.portfolio_transaction import TransactionType
from app.seeding.rows import AccountRow, SpendingRow, TransactionRow
from app.services import ledger

SANDBOX_PASSWORD = "sandbox-password"
DEMO_ADMIN = ("demo.admin", "demo-admin-password")
DEMO_ANALYST = ("demo.analyst", "demo-analyst-password")
FAKER_LOCALES = {"NL": "nl_NL", "BE": "nl_BE", "DE": "de_DE"}
SEED_CURRENCIES = ("EUR", "USD", "GBP")
BATCH = 500  # customers per bulk insert (about 55,000 transaction rows)

# A fixed clock, so the same seed gives the same bytes: "now" for the seeded data is New Year
# 2026, the Faker customers' history is calendar year 2025.
SEED_NOW = datetime(2026, 1, 1, tzinfo=UTC)
TODAY = SEED_NOW.date()
HISTORY_YEAR = 2025
VALUED_AT = datetime(2025, 12, 31, 22, 0, tzinfo=UTC)

CENT = Decimal("0.01")
SPENDING_TYPES = frozenset({TransactionType.card, TransactionType.payment})

console = Console()


@dataclass
class SeedReport:
    customers_created: int = 0
    customers_skipped: int = 0
    accounts_created: int = 0
    document_customers_created: int = 0
    document_customers_skipped: int = 0
    transactions_created: int = 0
    holdings_created: int = 0
    spending_rows_created: int = 0
    derivatives_created: int = 0


# --- small helpers ------------------------------------------------------------------------------


def seeded_username(index: int) -> str:
    return f"customer{index:05d}"


def money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


_BCRYPT_ALPHABET = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def seeded_password_hash(password: str, rounds: int, key: str) -> str:
    """bcrypt with a salt derived from `key`, so a re-seed writes the same hash.

    Sandbox logins only: a real password always gets a random salt (app.core.security).
    """
    rng = random.Random(f"salt:{key}")
    # 22 characters of bcrypt's base64; the last one carries only 2 bits, so pick one with the
    # unused bits clear.
    salt = "".join(rng.choice(_BCRYPT_ALPHABET) for _ in range(21)) + rng.choice(".Oeu")
    return bcrypt.hashpw(password.encode(), f"$2b${rounds:02d}${salt}".encode()).decode()


def seeded_uid(key: str) -> uuid.UUID:
    """A login's uid derived from `key` (the seed and the username), so a re-seed writes the
    same rows. Tokens of a reset database still die with its sessions."""
    return uuid.UUID(int=random.Random(f"uid:{key}").getrandbits(128), version=4)


def open_accounts(
    session: Session,
    rows: list[AccountRow],
    own_bank_id: int,
    opened_at: datetime,
    *,
    mirrored: bool,
) -> list[int]:
    """Insert account rows and return their ids in order. Accounts at this bank are inserted
    empty and funded through the ledger (one opening deposit each, in one batch), so that their
    balance is the sum of their postings; aggregated accounts keep the balance they were given.
    `mirrored`: whether the openings appear in the customers' portfolio histories."""
    openings: list[Decimal] = []
    for row in rows:
        ours = row["institution_id"] == own_bank_id
        openings.append(row["balance"] if ours else Decimal(0))
        if ours:
            row["balance"] = Decimal(0)
    ids = insert_rows(session, table_of(Account), rows, numbered=True)
    funded = [
        (row["iban"], amount)
        for row, amount in zip(rows, openings, strict=True)
        if amount and row["iban"] is not None
    ]
    locked = ledger.lock_accounts(session=session, ibans=[iban for iban, _ in funded])
    funds = {
        currency: ledger.funding_account(session=session, currency=currency, now=opened_at)
        for currency in sorted({locked[iban].account.currency for iban, _ in funded})
    }
    entries = []
    for iban, amount in funded:
        holder = locked[iban]
        fund = funds[holder.account.currency]
        legs = ledger.funding_legs(holder, fund, amount, outside=fund.name)
        entries.append(
            ledger.Entry(
                EntryKind.deposit, "Opening balance", legs, at=opened_at, mirrored=mirrored
            )
        )
    ledger.record_entries(session=session, entries=entries)
    return ids


def stamp(rng: random.Random, day: date) -> datetime:
    return datetime.combine(day, time(rng.randrange(7, 22), rng.randrange(60)), UTC)


def seeded_iban(rng: random.Random, settings: Settings, taken: set[str]) -> str:
    while True:
        code = f"{rng.randrange(10**10):010d}"
        iban = str(
            IBAN.generate(settings.bank_country, bank_code=settings.bank_code, account_code=code)
        )
        if iban not in taken:
            taken.add(iban)
            return iban


def spending_rows(
    customer_id: uuid.UUID, transactions: Iterable[TransactionRow]
) -> list[SpendingRow]:
    """The spending table of a customer: card and payment debits summed by month and category."""
    totals: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for row in transactions:
        if row["transaction_type"] in SPENDING_TYPES and row["amount"] < 0 and row["category"]:
            month = row["occurred_at"].strftime("%Y-%m")
            totals[(month, row["category"], row["currency"])] -= row["amount"]
    return [
        {
            "customer_id": customer_id,
            "month": month,
            "category": category,
            "currency": currency,
            "amount": amount,
        }
        for (month, category, currency), amount in sorted(totals.items())
    ]


T = TransactionType
A = AssetType
CHECKING, SAVING, INVESTMENT = AccountType.checking, AccountType.saving, AccountType.investment
CALL, PUT, FUTURE, FORWARD = (
    DerivativeType.call,
    DerivativeType.put,
    DerivativeType.future,
    DerivativeType.forward,
)
BUY, SELL = DerivativeSide.buy, DerivativeSide.sell
OPEN = DerivativeStatus.open
