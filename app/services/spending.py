"""Spending: what each customer spent per month, category and currency, summed as card payments
post (the portfolio's spending rows are these sums, not figures kept beside them)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from app.core.db import table_of
from app.models.spending import Spending

# (customer, when it posted, category, currency, amount spent)
Spent = tuple[uuid.UUID, datetime, str, str, Decimal]

_SPENDING = table_of(Spending)


def add(*, session: Session, amounts: Iterable[Spent]) -> int:
    """Add amounts to their months' rows (made on first use), in one statement, in the caller's
    unit of work. Returns the rows touched."""
    totals: dict[tuple[uuid.UUID, str, str, str], Decimal] = defaultdict(Decimal)
    for customer_id, at, category, currency, amount in amounts:
        totals[(customer_id, at.strftime("%Y-%m"), category, currency)] += amount
    if not totals:
        return 0
    rows = [
        {
            "customer_id": customer_id,
            "month": month,
            "category": category,
            "currency": currency,
            "amount": amount,
        }
        for (customer_id, month, category, currency), amount in sorted(
            totals.items(), key=lambda item: (str(item[0][0]), *item[0][1:])
        )
    ]
    session.execute(_ADD[session.get_bind().dialect.name], rows)
    return len(rows)


def _upsert(insert: Any) -> Any:
    """Add a row's amount to the row of its month, category and currency (made if absent)."""
    statement = insert(_SPENDING)
    return statement.on_conflict_do_update(
        index_elements=["customer_id", "month", "category", "currency"],
        set_={"amount": _SPENDING.c.amount + statement.excluded.amount},
    )


# Built once per dialect (a statement built per call is compiled per call).
_ADD = {"sqlite": _upsert(sqlite_insert), "postgresql": _upsert(postgresql_insert)}
