"""Standing orders: a customer's instruction to pay the same amount to the same account every
week or every month, from a start date (and until an end date), run by the sandbox's clock."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import model_validator
from sqlalchemy import CheckConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.clock import UTCDateTime, utcnow
from app.core.enums import enum_column
from app.core.money import MoneyOut, money_column
from app.models.journal_entry import DESCRIPTION_MAX
from app.models.transfer import FAILURE_REASON_MAX, FailureReason, PaymentOrder


class Frequency(StrEnum):
    weekly = "weekly"
    monthly = "monthly"


class StandingOrderStatus(StrEnum):
    """`active` until its end date passes (`ended`) or its customer cancels it (`cancelled`)."""

    active = "active"
    ended = "ended"
    cancelled = "cancelled"


class ExecutionStatus(StrEnum):
    completed = "completed"
    failed = "failed"


class StandingOrder(SQLModel, table=True):
    __tablename__ = "standing_order"
    __table_args__ = (
        CheckConstraint("amount > 0", name="ck_standing_order_amount_positive"),
        CheckConstraint("frequency IN ('weekly', 'monthly')", name="ck_standing_order_frequency"),
        CheckConstraint(
            "status IN ('active', 'ended', 'cancelled')", name="ck_standing_order_status"
        ),
        CheckConstraint("day_of_month BETWEEN 1 AND 31", name="ck_standing_order_day_of_month"),
        CheckConstraint(
            "end_on IS NULL OR end_on >= start_on", name="ck_standing_order_end_after_start"
        ),
        # The clock finds what falls due: active orders by their next date.
        Index("ix_standing_order_status_next_on", "status", "next_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: uuid.UUID = Field(foreign_key="customer.id", ondelete="CASCADE", index=True)
    from_account_id: int = Field(foreign_key="account.id", ondelete="CASCADE", index=True)
    from_iban: str = Field(max_length=34)
    to_iban: str = Field(max_length=34)
    amount: Decimal = Field(sa_type=money_column())
    currency: str = Field(foreign_key="currency.code", max_length=3)
    description: str = Field(default="", max_length=DESCRIPTION_MAX)
    frequency: Frequency = Field(sa_type=enum_column(Frequency))
    start_on: date
    end_on: date | None = None
    # The day of the month a monthly order runs on (its start date's): in a shorter month, the
    # month's last day.
    day_of_month: int
    # The next occurrence; null once the order ended or was cancelled.
    next_on: date | None = None
    status: StandingOrderStatus = Field(
        default=StandingOrderStatus.active, sa_type=enum_column(StandingOrderStatus)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StandingOrderExecution(SQLModel, table=True):
    """One occurrence of a standing order, run once (the pair is unique): the transfer it made,
    completed, or failed with its reason (then it is not retried)."""

    __tablename__ = "standing_order_execution"
    __table_args__ = (
        UniqueConstraint(
            "standing_order_id", "occurrence_on", name="uq_standing_order_execution_occurrence"
        ),
        CheckConstraint(
            "status IN ('completed', 'failed')", name="ck_standing_order_execution_status"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    standing_order_id: int = Field(foreign_key="standing_order.id", ondelete="CASCADE")
    occurrence_on: date
    status: ExecutionStatus = Field(sa_type=enum_column(ExecutionStatus))
    failure_reason: FailureReason | None = Field(
        default=None, sa_type=enum_column(FailureReason, FAILURE_REASON_MAX)
    )
    transfer_id: int | None = Field(default=None, foreign_key="transfer.id", ondelete="SET NULL")
    executed_at: datetime = Field(sa_type=UTCDateTime)


class StandingOrderCreate(PaymentOrder):
    frequency: Frequency = Field(
        description="weekly: every 7 days from start_on; monthly: on "
        "start_on's day of the month (the last day of shorter months)"
    )
    start_on: date = Field(
        description="The first occurrence: the sandbox's today or later",
        schema_extra={"examples": ["2999-01-01"]},
    )
    end_on: date | None = Field(
        default=None,
        description="The last day an occurrence may fall on (none: until cancelled)",
        schema_extra={"examples": ["2999-12-31"]},
    )

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> StandingOrderCreate:
        if self.end_on is not None and self.end_on < self.start_on:
            raise ValueError("end_on must not be before start_on")
        return self


class ExecutionPublic(SQLModel):
    occurrence_on: date
    status: ExecutionStatus
    failure_reason: FailureReason | None = None
    transfer_id: int | None = Field(description="The transfer it made (see GET /transfers/{id})")
    executed_at: datetime


class StandingOrderPublic(SQLModel):
    id: int
    from_iban: str
    to_iban: str
    amount: MoneyOut
    currency: str
    description: str
    frequency: Frequency
    start_on: date
    end_on: date | None
    next_on: date | None = Field(description="The next occurrence; null once it is not active")
    status: StandingOrderStatus
    created_at: datetime


class StandingOrderDetail(StandingOrderPublic):
    executions: list[ExecutionPublic] = Field(description="Every occurrence run so far, in order")
