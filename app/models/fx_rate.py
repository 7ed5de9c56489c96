from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from app.core.clock import UTCDateTime, utcnow
from app.core.money import PositiveRate, PriceOut, price_column


class FxRateBase(SQLModel):
    base_currency: str = Field(min_length=3, max_length=3)
    quote_currency: str = Field(min_length=3, max_length=3)


class FxRate(FxRateBase, table=True):
    """A reference rate: one unit of `base_currency` is worth `rate` units of `quote_currency`."""

    __tablename__ = "fx_rate"
    __table_args__ = (
        CheckConstraint("rate > 0", name="ck_fx_rate_positive"),
        CheckConstraint("base_currency <> quote_currency", name="ck_fx_rate_distinct"),
    )

    base_currency: str = Field(
        primary_key=True, foreign_key="currency.code", ondelete="CASCADE", max_length=3
    )
    quote_currency: str = Field(
        primary_key=True, foreign_key="currency.code", ondelete="CASCADE", max_length=3
    )
    rate: Decimal = Field(sa_type=price_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class FxRateUpdate(SQLModel):
    rate: PositiveRate = Field(
        description="Units of the quote currency per unit of the base currency"
    )


class FxRatePublic(FxRateBase):
    rate: PriceOut
    updated_at: datetime
