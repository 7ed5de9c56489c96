"""Factories that put portfolio rows straight into the database for the tests."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import event, insert
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.core.db import write_transaction
from app.models.account import Account, AccountType
from app.models.asset import Asset, AssetType
from app.models.customer import Customer
from app.models.derivative_transaction import (
    DerivativeSide,
    DerivativeTransaction,
    DerivativeType,
)
from app.models.institution import Institution, InstitutionType
from app.models.portfolio_transaction import PortfolioTransaction, TransactionType
from app.models.spending import Spending

START = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)


def add_customer(session: Session, name: str = "Pat Portfolio") -> uuid.UUID:
    with write_transaction(session):
        customer = Customer(name=name)
        session.add(customer)
    return customer.id


def add_institution(
    session: Session,
    name: str = "First National Bank",
    institution_type: InstitutionType = InstitutionType.bank,
    routing_number: str | None = "123456789",
    bic: str | None = None,
) -> int:
    with write_transaction(session):
        institution = Institution(
            name=name, institution_type=institution_type, routing_number=routing_number, bic=bic
        )
        session.add(institution)
    assert institution.id is not None
    return institution.id


def add_account(
    session: Session,
    customer_id: uuid.UUID,
    institution_id: int,
    *,
    balance: str,
    currency: str = "EUR",
    account_type: AccountType = AccountType.checking,
    account_number: str | None = None,
) -> int:
    with write_transaction(session):
        account = Account(
            customer_id=customer_id,
            institution_id=institution_id,
            account_type=account_type,
            account_number=account_number or f"ACC-{uuid.uuid4().hex[:8]}",
            currency=currency,
            balance=Decimal(balance),
        )
        session.add(account)
    assert account.id is not None
    return account.id


def add_asset(
    session: Session,
    customer_id: uuid.UUID,
    symbol: str,
    *,
    quantity: str,
    value: str,
    currency: str = "USD",
    asset_type: AssetType = AssetType.stock,
) -> None:
    with write_transaction(session):
        session.add(
            Asset(
                customer_id=customer_id,
                asset_type=asset_type,
                symbol=symbol,
                quantity=Decimal(quantity),
                current_value=Decimal(value),
                currency=currency,
            )
        )


def add_spending(
    session: Session,
    customer_id: uuid.UUID,
    category: str,
    *,
    month: str,
    amount: str,
    currency: str = "EUR",
) -> None:
    with write_transaction(session):
        session.add(
            Spending(
                customer_id=customer_id,
                category=category,
                month=month,
                amount=Decimal(amount),
                currency=currency,
            )
        )


def add_derivative(
    session: Session, customer_id: uuid.UUID, symbol: str = "AAPL", **overrides: Any
) -> None:
    fields: dict[str, Any] = {
        "customer_id": customer_id,
        "derivative_type": DerivativeType.call,
        "side": DerivativeSide.buy,
        "asset_symbol": symbol,
        "quantity": Decimal(1),
        "strike_price": Decimal("180.00"),
        "premium": Decimal("350.00"),
        "currency": "USD",
        "execution_date": date(2025, 1, 10),
        "expiration_date": date(2025, 6, 20),
        "strategy": "long_call",
        "counterparty": "Global Investment Brokers",
    }
    fields.update(overrides)
    with write_transaction(session):
        session.add(DerivativeTransaction(**fields))


def transaction_rows(
    customer_id: uuid.UUID,
    count: int,
    *,
    start: datetime = START,
    step: timedelta = timedelta(hours=1),
    account_id: int | None = None,
    currency: str = "EUR",
) -> list[dict[str, Any]]:
    """`count` card payments of -1.00 .. -9.99 an hour apart, alternating two categories."""
    return [
        {
            "customer_id": customer_id,
            "account_id": account_id,
            "occurred_at": start + step * i,
            "transaction_type": TransactionType.card,
            "amount": -Decimal(100 + i % 900).scaleb(-2),
            "currency": currency,
            "category": "groceries" if i % 2 == 0 else "dining",
            "counterparty": f"Shop {i % 7}",
        }
        for i in range(count)
    ]


def add_transactions(session: Session, rows: list[dict[str, Any]]) -> None:
    """Bulk insert, as seed.py does: one executemany, no ORM objects."""
    with write_transaction(session):
        session.execute(insert(PortfolioTransaction), rows)


_SWEEP = re.compile(r"\bFROM sandbox\b")


@contextmanager
def count_statements(engine: Engine) -> Iterator[list[str]]:
    """Every SQL statement sent to the database while the block runs, but for the app's sweep
    of expired sandboxes: it runs on its own task from startup on, so it may query the registry
    at any moment of a test."""
    statements: list[str] = []

    def _record(
        _conn: Any, _cursor: Any, statement: str, _params: Any, _ctx: Any, _many: bool
    ) -> None:
        if not _SWEEP.search(statement):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", _record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", _record)
