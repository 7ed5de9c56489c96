from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import field_validator
from sqlalchemy import CheckConstraint, Index
from sqlmodel import Field, SQLModel

from app.core.clock import UTCDateTime, utcnow
from app.core.enums import enum_column
from app.core.identifiers import CURRENCY_SCHEMA, IBAN_SCHEMA
from app.core.money import MoneyOut, PositiveAmount, money_column
from app.core.text import NO_NUL_PATTERN
from app.models.journal_entry import DESCRIPTION_MAX

IBAN_INPUT_MAX = 64  # 34 characters plus the spaces of the printed form, with room to spare
FAILURE_REASON_MAX = 40


class TransferStatus(StrEnum):
    """`completed` at once, or `scheduled` for a later sandbox date, then `completed` or
    `failed` on that date, or `cancelled` before it."""

    completed = "completed"
    scheduled = "scheduled"
    failed = "failed"
    cancelled = "cancelled"


class FailureReason(StrEnum):
    """Why a scheduled transfer failed on its date."""

    insufficient_funds = "insufficient_funds"
    account_not_found = "account_not_found"


class TransferBase(SQLModel):
    currency: str = Field(min_length=3, max_length=3)
    description: str = Field(default="", max_length=DESCRIPTION_MAX)


class Transfer(TransferBase, table=True):
    """A transfer between two accounts at this bank, and the journal entry that moved its money
    (none while it is scheduled, or when it failed or was cancelled).

    The accounts' IBANs are kept as they were, so the record stays readable for the other side
    when one account is deleted (its id is then set to NULL).
    """

    __table_args__ = (
        CheckConstraint("amount > 0", name="ck_transfer_amount_positive"),
        CheckConstraint(
            "status IN ('completed', 'scheduled', 'failed', 'cancelled')",
            name="ck_transfer_status",
        ),
        CheckConstraint(
            "(status = 'completed') = (entry_id IS NOT NULL)", name="ck_transfer_entry_if_completed"
        ),
        Index("ix_transfer_from_created_id", "from_account_id", "created_at", "id"),
        Index("ix_transfer_to_created_id", "to_account_id", "created_at", "id"),
        # The clock finds what falls due: scheduled transfers by date.
        Index("ix_transfer_status_execute_on", "status", "execute_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int | None = Field(default=None, foreign_key="journal_entry.id", unique=True)
    status: TransferStatus = Field(
        default=TransferStatus.completed, sa_type=enum_column(TransferStatus)
    )
    execute_on: date | None = Field(default=None)
    failure_reason: FailureReason | None = Field(
        default=None, sa_type=enum_column(FailureReason, FAILURE_REASON_MAX)
    )
    from_account_id: int | None = Field(foreign_key="account.id", ondelete="SET NULL")
    to_account_id: int | None = Field(foreign_key="account.id", ondelete="SET NULL")
    from_iban: str = Field(max_length=34)
    to_iban: str = Field(max_length=34)
    amount: Decimal = Field(sa_type=money_column())
    currency: str = Field(foreign_key="currency.code", max_length=3)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PaymentOrder(TransferBase):
    """An instruction to pay: from one of your accounts to any account at this bank."""

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


class TransferCreate(PaymentOrder):
    execute_on: date | None = Field(
        default=None,
        description="A later date of the sandbox's calendar: the transfer is scheduled (201 with "
        "status scheduled) and runs when the sandbox's clock reaches that day",
    )


class TransferPublic(SQLModel):
    id: int
    from_iban: str
    to_iban: str
    amount: MoneyOut
    currency: str
    description: str
    status: TransferStatus = Field(
        default=TransferStatus.completed,
        description="completed: booked, all or nothing; scheduled: waits for execute_on; "
        "failed: it could not run on its date (see failure_reason); cancelled: before its date",
    )
    execute_on: date | None = Field(default=None, description="The date a scheduled transfer runs")
    entry_id: int | None = Field(
        default=None,
        description="The journal entry that moved its money (statement lines name it); null "
        "until a scheduled transfer has run, and for one that failed or was cancelled",
    )
    failure_reason: FailureReason | None = Field(
        default=None, description="Why a scheduled transfer failed on its date"
    )
    created_at: datetime
