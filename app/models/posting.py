from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Index
from sqlmodel import Field, SQLModel

from app.core.clock import UTCDateTime, utcnow
from app.core.money import MoneyOut, money_column
from app.core.rows import PublicRow
from app.models.journal_entry import EntryKind


class PostingBase(SQLModel):
    amount: Decimal = Field(sa_type=money_column())
    currency: str = Field(foreign_key="currency.code", max_length=3)
    balance_after: Decimal = Field(sa_type=money_column())
    counterparty_iban: str | None = Field(default=None, max_length=34)
    counterparty_name: str | None = Field(default=None, max_length=200)


class Posting(PostingBase, table=True):
    """One line of a journal entry on one ledger account: a customer account at this bank or a
    funding account (exactly one of the two when written). `amount` is signed (credit > 0,
    debit < 0) and `balance_after` is the account's balance once it was applied. The
    counterparty is kept as it was at the time, as on a printed statement.

    Postings are the bank's books and outlive a deleted customer: the account link is then set
    to NULL (a posting on a closed account), so every journal entry keeps summing to zero."""

    __table_args__ = (
        CheckConstraint("amount <> 0", name="ck_posting_amount_non_zero"),
        CheckConstraint(
            "account_id IS NULL OR funding_account_id IS NULL",
            name="ck_posting_one_ledger_account",
        ),
        CheckConstraint(
            "account_id IS NULL OR balance_after >= 0",
            name="ck_posting_customer_balance_non_negative",
        ),
        # Statements: one account's lines, newest first, in keyset pages.
        Index("ix_posting_account_created_id", "account_id", "created_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    journal_entry_id: int = Field(foreign_key="journal_entry.id", index=True)
    account_id: int | None = Field(default=None, foreign_key="account.id", ondelete="SET NULL")
    funding_account_id: int | None = Field(
        default=None, foreign_key="funding_account.id", index=True
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PostingPublic(PublicRow):
    """A statement line."""

    id: int
    entry_id: int = Field(description="The journal entry; for a transfer also its transfer id")
    kind: EntryKind
    created_at: datetime
    amount: MoneyOut = Field(description="Signed: money in is positive, money out negative")
    currency: str
    balance_after: MoneyOut
    counterparty_iban: str | None
    counterparty_name: str | None
    description: str
