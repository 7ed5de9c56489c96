from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel, col

from app.core.money import MONEY_SCALE, MoneyOut, money_column
from app.core.rows import PublicRow, PublicRows

MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"  # ASCII digits (\d would take any script's)


class SpendingBase(SQLModel):
    category: str = Field(min_length=1, max_length=50)
    # SQLModel drops `regex=` under pydantic 2; `pattern` passed through schema_extra is kept.
    month: str = Field(max_length=7, description="YYYY-MM", schema_extra={"pattern": MONTH_PATTERN})
    currency: str = Field(min_length=3, max_length=3)


class Spending(SpendingBase, table=True):
    """What a customer spent in one category in one month, in one currency."""

    __table_args__ = (
        UniqueConstraint(
            "customer_id", "month", "category", "currency", name="uq_spending_month_category"
        ),
        CheckConstraint("amount >= 0", name="ck_spending_amount_non_negative"),
        CheckConstraint(
            "length(month) = 7 AND substr(month, 5, 1) = '-'", name="ck_spending_month_format"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: uuid.UUID = Field(foreign_key="customer.id", ondelete="CASCADE", index=True)
    amount: Decimal = Field(sa_type=money_column())
    currency: str = Field(foreign_key="currency.code", max_length=3)


class SpendingCreate(SpendingBase):
    amount: Decimal = Field(ge=0, max_digits=15, decimal_places=MONEY_SCALE)


class SpendingPublic(SpendingBase, PublicRow):
    id: int
    customer_oid: uuid.UUID
    amount: MoneyOut


# Read straight from the table, the owner as `customer_oid` (see app/core/rows.py).
SPENDING_ROWS = PublicRows(SpendingPublic, Spending, customer_oid=col(Spending.customer_id))
