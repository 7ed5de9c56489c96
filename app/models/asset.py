from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import field_validator
from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel, col

from app.core.clock import UTCDateTime, utcnow
from app.core.enums import enum_column
from app.core.money import (
    MONEY_SCALE,
    QUANTITY_SCALE,
    MoneyOut,
    QuantityOut,
    money_column,
    quantity_column,
)
from app.core.rows import PublicRow, PublicRows


class AssetType(StrEnum):
    stock = "stock"
    bond = "bond"
    etf = "etf"
    fund = "fund"
    crypto = "crypto"
    commodity = "commodity"


class AssetBase(SQLModel):
    asset_type: AssetType = Field(max_length=20)
    symbol: str = Field(min_length=1, max_length=20)
    name: str | None = Field(default=None, max_length=100)
    currency: str = Field(min_length=3, max_length=3)


class Asset(AssetBase, table=True):
    """A holding: how much of one instrument a customer owns and what it is worth now."""

    __table_args__ = (
        UniqueConstraint("customer_id", "asset_type", "symbol", name="uq_asset_customer_symbol"),
        CheckConstraint("quantity > 0", name="ck_asset_quantity_positive"),
        CheckConstraint("current_value >= 0", name="ck_asset_value_non_negative"),
        CheckConstraint(
            "asset_type IN ('stock', 'bond', 'etf', 'fund', 'crypto', 'commodity')",
            name="ck_asset_type",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: uuid.UUID = Field(foreign_key="customer.id", ondelete="CASCADE", index=True)
    asset_type: AssetType = Field(sa_type=enum_column(AssetType))
    quantity: Decimal = Field(sa_type=quantity_column())
    current_value: Decimal = Field(sa_type=money_column())
    currency: str = Field(foreign_key="currency.code", max_length=3)
    valued_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AssetCreate(AssetBase):
    quantity: Decimal = Field(gt=0, max_digits=20, decimal_places=QUANTITY_SCALE)
    current_value: Decimal = Field(ge=0, max_digits=15, decimal_places=MONEY_SCALE)

    @field_validator("symbol", "currency")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.strip().upper()


class AssetPublic(AssetBase, PublicRow):
    id: int
    customer_oid: uuid.UUID
    quantity: QuantityOut
    current_value: MoneyOut
    valued_at: datetime


# Read straight from the table, the owner as `customer_oid` (see app/core/rows.py).
ASSET_ROWS = PublicRows(AssetPublic, Asset, customer_oid=col(Asset.customer_id))
