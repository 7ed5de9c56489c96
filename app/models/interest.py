"""Interest on saving accounts: an annual rate per currency, set by admins."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import field_validator
from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from app.core.clock import UTCDateTime
from app.core.money import PositiveRate, PriceOut, price_column

MAX_PERCENT = Decimal(100)


class InterestRate(SQLModel, table=True):
    """Saving accounts in `currency` earn `annual_percent` a year (accrued daily, paid monthly)."""

    __tablename__ = "interest_rate"
    __table_args__ = (CheckConstraint("annual_percent > 0", name="ck_interest_rate_positive"),)

    currency: str = Field(
        primary_key=True, foreign_key="currency.code", ondelete="CASCADE", max_length=3
    )
    annual_percent: Decimal = Field(sa_type=price_column())
    updated_at: datetime = Field(sa_type=UTCDateTime)


class InterestRateUpdate(SQLModel):
    annual_percent: PositiveRate = Field(
        description='Percent a year, e.g. "1.5" (at most 100, at most 8 decimals)'
    )

    @field_validator("annual_percent")
    @classmethod
    def _at_most_100(cls, value: Decimal) -> Decimal:
        if value > MAX_PERCENT:
            raise ValueError("must be at most 100 (percent a year)")
        return value


class InterestRatePublic(SQLModel):
    currency: str
    annual_percent: PriceOut
    updated_at: datetime
