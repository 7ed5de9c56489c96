"""Transactions in the portfolio (the portfolio-analysis API): trades, income, card payments
and transfers.

The table is `transaction`; the class is not called `Transaction` so that it cannot be mistaken
for a database transaction or the ledger's journal entries, which will also write rows here.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import field_validator
from sqlalchemy import CheckConstraint, Index
from sqlmodel import Field, SQLModel, col

from app.core.clock import UTCDateTime
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


class TransactionType(StrEnum):
    buy = "buy"
    sell = "sell"
    deposit = "deposit"
    withdrawal = "withdrawal"
    dividend = "dividend"
    interest = "interest"
    salary = "salary"
    card = "card"
    payment = "payment"
    transfer = "transfer"
    fee = "fee"


_TYPES_SQL = ", ".join(f"'{t.value}'" for t in TransactionType)


class PortfolioTransactionBase(SQLModel):
    transaction_type: TransactionType = Field(max_length=20)
    occurred_at: datetime
    amount: Decimal = Field(description="Signed: positive is money in, negative money out")
    currency: str = Field(min_length=3, max_length=3)
    category: str | None = Field(default=None, max_length=50)
    asset_symbol: str | None = Field(default=None, max_length=20)
    quantity: Decimal | None = None
    counterparty: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=200)


class PortfolioTransaction(PortfolioTransactionBase, table=True):
    __tablename__ = "transaction"
    __table_args__ = (
        # Serves every customer filter (so customer_id needs no index of its own), the cascade
        # on delete, and keyset pages newest first at any depth.
        Index("ix_transaction_customer_occurred", "customer_id", "occurred_at", "id"),
        CheckConstraint("amount <> 0", name="ck_transaction_amount_non_zero"),
        CheckConstraint("quantity IS NULL OR quantity > 0", name="ck_transaction_quantity"),
        CheckConstraint(f"transaction_type IN ({_TYPES_SQL})", name="ck_transaction_type"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: uuid.UUID = Field(foreign_key="customer.id", ondelete="CASCADE")
    transaction_type: TransactionType = Field(sa_type=enum_column(TransactionType))
    account_id: int | None = Field(
        default=None, foreign_key="account.id", ondelete="SET NULL", index=True
    )
    occurred_at: datetime = Field(sa_type=UTCDateTime)
    amount: Decimal = Field(sa_type=money_column())
    currency: str = Field(foreign_key="currency.code", max_length=3)
    quantity: Decimal | None = Field(default=None, sa_type=quantity_column())


class PortfolioTransactionCreate(PortfolioTransactionBase):
    account_id: int | None = None
    amount: Decimal = Field(max_digits=15, decimal_places=MONEY_SCALE)
    quantity: Decimal | None = Field(
        default=None, gt=0, max_digits=20, decimal_places=QUANTITY_SCALE
    )

    @field_validator("amount")
    @classmethod
    def _non_zero(cls, value: Decimal) -> Decimal:
        if value == 0:
            raise ValueError("amount must not be zero")
        return value


class PortfolioTransactionPublic(PortfolioTransactionBase, PublicRow):
    id: int
    customer_oid: uuid.UUID
    account_id: int | None
    amount: MoneyOut
    quantity: QuantityOut | None


# Read straight from the table, the owner as `customer_oid` (see app/core/rows.py).
TRANSACTION_ROWS = PublicRows(
    PortfolioTransactionPublic,
    PortfolioTransaction,
    customer_oid=col(PortfolioTransaction.customer_id),
)
