from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import field_validator
from sqlalchemy import CheckConstraint, Index
from sqlmodel import Field, SQLModel

from app.core.clock import UTCDateTime, utcnow
from app.core.identifiers import CURRENCY_SCHEMA, IBAN_SCHEMA
from app.core.money import MoneyOut, PositiveAmount, money_column
from app.core.text import NO_NUL_PATTERN
from app.models.journal_entry import DESCRIPTION_MAX

IBAN_INPUT_MAX = 64  # 34 characters plus the spaces of the printed form, with room to spare


class TransferBase(SQLModel):
    currency: str = Field(min_length=3, max_length=3)
    description: str = Field(default="", max_length=DESCRIPTION_MAX)


class Transfer(TransferBase, table=True):
    """A transfer between two accounts at this bank. It shares its id with its journal entry.

    The accounts' IBANs are kept as they were, so the record stays readable for the other side
    when one account is deleted (its id is then set to NULL).
    """

    __table_args__ = (
        CheckConstraint("amount > 0", name="ck_transfer_amount_positive"),
        Index("ix_transfer_from_created_id", "from_account_id", "created_at", "id"),
        Index("ix_transfer_to_created_id", "to_account_id", "created_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True, foreign_key="journal_entry.id")
    from_account_id: int | None = Field(foreign_key="account.id", ondelete="SET NULL")
    to_account_id: int | None = Field(foreign_key="account.id", ondelete="SET NULL")
    from_iban: str = Field(max_length=34)
    to_iban: str = Field(max_length=34)
    amount: Decimal = Field(sa_type=money_column())
    currency: str = Field(foreign_key="currency.code", max_length=3)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TransferCreate(TransferBase):
    from_iban: str = Field(
        max_length=IBAN_INPUT_MAX,
        description="One of your accounts at this bank",
        schema_extra={"examples": ["NL91ABNA0417164300"], "json_schema_extra": IBAN_SCHEMA},
    )
    to_iban: str = Field(
        max_length=IBAN_INPUT_MAX,
        description="Any account at this bank (yours or another customer's)",
        schema_extra={"examples": ["DE89370400440532013000"], "json_schema_extra": IBAN_SCHEMA},
    )
    amount: PositiveAmount
    currency: str = Field(
        min_length=3,
        max_length=3,
        description="Must be the currency of both accounts (no FX)",
        schema_extra={"examples": ["EUR"], "json_schema_extra": CURRENCY_SCHEMA},
    )
    description: str = Field(
        default="",
        max_length=DESCRIPTION_MAX,
        schema_extra={"pattern": NO_NUL_PATTERN, "examples": ["Rent March"]},
    )

    @field_validator("currency")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @field_validator("description")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()


class TransferPublic(SQLModel):
    id: int
    from_iban: str
    to_iban: str
    amount: MoneyOut
    currency: str
    description: str
    status: Literal["completed"] = Field(
        default="completed", description="Transfers are booked at once, all or nothing"
    )
    created_at: datetime
