from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from app.core.clock import UTCDateTime, utcnow
from app.core.enums import enum_column

DESCRIPTION_MAX = 140


class EntryKind(StrEnum):
    transfer = "transfer"
    deposit = "deposit"
    withdrawal = "withdrawal"
    interest = "interest"
    card_payment = "card_payment"
    income = "income"
    payment = "payment"


class JournalEntry(SQLModel, table=True):
    """One movement of money: immutable, with two or more postings that sum to zero per currency.

    Rows are only ever inserted (by `app.services.ledger`), never updated or deleted.
    """

    __tablename__ = "journal_entry"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('transfer', 'deposit', 'withdrawal', 'interest', 'card_payment', 'income', "
            "'payment')",
            name="ck_journal_entry_kind",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: EntryKind = Field(sa_type=enum_column(EntryKind))
    description: str = Field(default="", max_length=DESCRIPTION_MAX)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
