from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel, col

from app.core.enums import enum_column
from app.core.money import (
    MONEY_SCALE,
    QUANTITY_SCALE,
    MoneyOut,
    PriceOut,
    QuantityOut,
    money_column,
    price_column,
    quantity_column,
)
from app.core.rows import PublicRow, PublicRows


class DerivativeType(StrEnum):
    call = "call"
    put = "put"
    future = "future"
    forward = "forward"
    swap = "swap"


class DerivativeSide(StrEnum):
    buy = "buy"
    sell = "sell"


class DerivativeStatus(StrEnum):
    open = "open"
    closed = "closed"
    exercised = "exercised"
    expired = "expired"


class DerivativeTransactionBase(SQLModel):
    derivative_type: DerivativeType = Field(max_length=20)
    side: DerivativeSide = Field(max_length=4)
    asset_symbol: str = Field(min_length=1, max_length=20, description="The underlying")
    currency: str = Field(min_length=3, max_length=3)
    execution_date: date
    expiration_date: date
    strategy: str | None = Field(default=None, max_length=50)
    status: DerivativeStatus = Field(default=DerivativeStatus.open, max_length=20)
    counterparty: str | None = Field(default=None, max_length=200)


class DerivativeTransaction(DerivativeTransactionBase, table=True):
    """An option, future, forward or swap the customer bought or sold."""

    __tablename__ = "derivative_transaction"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="ck_derivative_quantity_positive"),
        CheckConstraint(
            "strike_price IS NULL OR strike_price > 0", name="ck_derivative_strike_positive"
        ),
        CheckConstraint("premium IS NULL OR premium >= 0", name="ck_derivative_premium"),
        CheckConstraint("expiration_date >= execution_date", name="ck_derivative_dates"),
        CheckConstraint(
            "derivative_type IN ('call', 'put', 'future', 'forward', 'swap')",
            name="ck_derivative_type",
        ),
        CheckConstraint("side IN ('buy', 'sell')", name="ck_derivative_side"),
        CheckConstraint(
            "status IN ('open', 'closed', 'exercised', 'expired')", name="ck_derivative_status"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: uuid.UUID = Field(foreign_key="customer.id", ondelete="CASCADE", index=True)
    derivative_type: DerivativeType = Field(sa_type=enum_column(DerivativeType))
    side: DerivativeSide = Field(sa_type=enum_column(DerivativeSide, length=4))
    status: DerivativeStatus = Field(
        default=DerivativeStatus.open, sa_type=enum_column(DerivativeStatus)
    )
    quantity: Decimal = Field(sa_type=quantity_column())
    strike_price: Decimal | None = Field(default=None, sa_type=price_column())
    premium: Decimal | None = Field(default=None, sa_type=money_column())
    currency: str = Field(foreign_key="currency.code", max_length=3)


class DerivativeTransactionCreate(DerivativeTransactionBase):
    quantity: Decimal = Field(gt=0, max_digits=20, decimal_places=QUANTITY_SCALE)
    strike_price: Decimal | None = Field(
        default=None, gt=0, max_digits=20, decimal_places=QUANTITY_SCALE
    )
    premium: Decimal | None = Field(default=None, ge=0, max_digits=15, decimal_places=MONEY_SCALE)


class DerivativeTransactionPublic(DerivativeTransactionBase, PublicRow):
    id: int
    customer_oid: uuid.UUID
    quantity: QuantityOut = Field(description="Number of contracts")
    strike_price: PriceOut | None = Field(description="Per unit of the underlying")
    premium: MoneyOut | None = Field(description="Total premium paid (buy) or received (sell)")


# Read straight from the table, the owner as `customer_oid` (see app/core/rows.py).
DERIVATIVE_ROWS = PublicRows(
    DerivativeTransactionPublic,
    DerivativeTransaction,
    customer_oid=col(DerivativeTransaction.customer_id),
)
