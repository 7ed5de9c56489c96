"""Card payments: a hold on an account's money at a merchant, posted to the ledger when it settles
(after the settlement delay, in sandbox days, or at once on request) or released."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import field_validator
from sqlalchemy import CheckConstraint, Index
from sqlmodel import Field, SQLModel

from app.core.clock import UTCDateTime
from app.core.enums import enum_column
from app.core.identifiers import CURRENCY_SCHEMA, IBAN_SCHEMA
from app.core.money import MoneyOut, PositiveAmount, money_column
from app.core.text import NAME_MAX_LENGTH, Name
from app.models.transfer import IBAN_INPUT_MAX

CATEGORY_MAX = 50
# A spending category, as the portfolio's spending table groups it: "groceries", "dining"...
CATEGORY_PATTERN = r"^[a-z][a-z0-9_]*$"


class CardPaymentStatus(StrEnum):
    """`held` (available balance lowered, booked balance not yet) until it is `posted` (a ledger
    entry) or `released` (the money is available again, nothing was booked)."""

    held = "held"
    posted = "posted"
    released = "released"


class CardPayment(SQLModel, table=True):
    __tablename__ = "card_payment"
    __table_args__ = (
        CheckConstraint("amount > 0", name="ck_card_payment_amount_positive"),
        CheckConstraint("status IN ('held', 'posted', 'released')", name="ck_card_payment_status"),
        CheckConstraint(
            "(status = 'posted') = (entry_id IS NOT NULL)", name="ck_card_payment_entry_if_posted"
        ),
        # The clock finds what falls due: holds by the moment they settle.
        Index("ix_card_payment_status_settles_at", "status", "settles_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", ondelete="CASCADE", index=True)
    iban: str = Field(max_length=34)
    amount: Decimal = Field(sa_type=money_column())
    currency: str = Field(foreign_key="currency.code", max_length=3)
    merchant: str = Field(max_length=NAME_MAX_LENGTH)
    category: str = Field(max_length=CATEGORY_MAX)
    status: CardPaymentStatus = Field(
        default=CardPaymentStatus.held, sa_type=enum_column(CardPaymentStatus)
    )
    held_at: datetime = Field(sa_type=UTCDateTime)
    settles_at: datetime = Field(sa_type=UTCDateTime)
    posted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    released_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    entry_id: int | None = Field(default=None, foreign_key="journal_entry.id", unique=True)


class CardPaymentCreate(SQLModel):
    iban: str = Field(
        max_length=IBAN_INPUT_MAX,
        description="The paying account, at this bank",
        schema_extra={"examples": ["NL91ABNA0417164300"], "json_schema_extra": IBAN_SCHEMA},
    )
    amount: PositiveAmount
    currency: str = Field(
        min_length=3,
        max_length=3,
        description="The account's currency",
        schema_extra={"examples": ["EUR"], "json_schema_extra": CURRENCY_SCHEMA},
    )
    merchant: Name = Field(schema_extra={"examples": ["Albert Heijn"]})
    category: str = Field(
        min_length=1,
        max_length=CATEGORY_MAX,
        description="The spending category it counts in: lower-case letters, digits and _",
        schema_extra={"pattern": CATEGORY_PATTERN, "examples": ["groceries"]},
    )

    @field_validator("currency")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()


class CardPaymentPublic(SQLModel):
    id: int
    iban: str
    amount: MoneyOut
    currency: str
    merchant: str
    category: str
    status: CardPaymentStatus = Field(
        description="held: the available balance is lowered, the booked one not yet; posted: "
        "booked (see entry_id); released: the hold was lifted, nothing was booked"
    )
    held_at: datetime
    settles_at: datetime = Field(
        description="When a held payment posts by itself on the sandbox's clock"
    )
    posted_at: datetime | None = None
    released_at: datetime | None = None
    entry_id: int | None = Field(
        default=None, description="The journal entry that booked it, once posted"
    )
