from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlmodel import Field, SQLModel

from app.core.clock import UTCDateTime, utcnow
from app.core.money import money_column


class FundingAccount(SQLModel, table=True):
    """The bank's own ledger account per currency, the other side of sandbox deposits and
    withdrawals. It is not a customer account: it has no owner and no IBAN, and its balance is
    the negative of all money put into the sandbox (so it has no `balance >= 0` rule)."""

    __tablename__ = "funding_account"

    id: int | None = Field(default=None, primary_key=True)
    currency: str = Field(foreign_key="currency.code", max_length=3, unique=True)
    name: str = Field(max_length=200)
    balance: Decimal = Field(default=Decimal("0.00"), sa_type=money_column())
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
