"""The portfolio-analysis API's portfolio: a customer's whole financial picture in one read.

Every request costs a fixed number of SQL statements whatever the customer's history holds:
one per section, the latest transactions only (`transactions_limit`), and the totals computed in
SQL over all rows (counts in one statement, per-currency sums grouped by currency). Older
transactions are read page by page with a keyset cursor on (occurred_at, id), newest first,
which costs the same at any depth thanks to the index on (customer_id, occurred_at, id).

Converted totals are in the currency the caller asks for (`base_currency`) or, when it asks for
none, in the customer's reporting currency (`reporting_currency`): the currency of most of their
cash, so a customer who lives in dollars reads dollars, and a one-currency customer's totals are
plain sums with no rate applied.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import BindParameter, Select, bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, func, select

from app.core.pagination import encode_cursor, older_than
from app.core.periods import utc_period
from app.errors import CustomerNotFound, ValidationFailed
from app.models.account import Account, BankAccountPublic
from app.models.asset import ASSET_ROWS, Asset
from app.models.customer import Customer
from app.models.derivative_transaction import DERIVATIVE_ROWS, DerivativeTransaction
from app.models.institution import Institution, InstitutionPublic
from app.models.portfolio_transaction import (
    TRANSACTION_ROWS,
    PortfolioTransaction,
    PortfolioTransactionPublic,
    TransactionType,
)
from app.models.spending import MONTH_PATTERN, SPENDING_ROWS, Spending
from app.schemas.portfolio import (
    CategorySpending,
    CurrencyTotals,
    HasData,
    Portfolio,
    PortfolioSummary,
    PortfolioUser,
    SpendingByCategory,
    TransactionPage,
)
from app.services.fx import Converter

DEFAULT_TRANSACTIONS_LIMIT = 100
MAX_TRANSACTIONS_LIMIT = 1000
DEFAULT_PAGE_LIMIT = 50
MAX_PAGE_LIMIT = 1000
ZERO = Decimal("0.00")


# The portfolio's statements, built once: each read binds the customer (building a statement
# costs more than running it for a customer of average size).
_CUSTOMER: BindParameter[Any] = bindparam("customer_id")
_LATEST_TRANSACTIONS = (
    TRANSACTION_ROWS.select()
    .where(col(PortfolioTransaction.customer_id) == _CUSTOMER)
    .order_by(col(PortfolioTransaction.occurred_at).desc(), col(PortfolioTransaction.id).desc())
    .limit(bindparam("limit"))
)
_ASSETS = (
    ASSET_ROWS.select()
    .where(col(Asset.customer_id) == _CUSTOMER)
    .order_by(col(Asset.asset_type), col(Asset.symbol))
)
_SPENDING_ROWS = (
    SPENDING_ROWS.select()
    .where(col(Spending.customer_id) == _CUSTOMER)
    .order_by(col(Spending.month).desc(), col(Spending.category), col(Spending.currency))
)
_DERIVATIVES = (
    DERIVATIVE_ROWS.select()
    .where(col(DerivativeTransaction.customer_id) == _CUSTOMER)
    .order_by(
        col(DerivativeTransaction.execution_date).desc(), col(DerivativeTransaction.id).desc()
    )
)


# --- reads -----------------------------------------------------------------------------------


def _customer(session: Session, customer_id: uuid.UUID) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise CustomerNotFound.for_oid(customer_id)
    return customer


def _latest_transactions(
    session: Session, customer_id: uuid.UUID, limit: int, conditions: Sequence[Any] = ()
) -> tuple[list[PortfolioTransactionPublic], str | None]:
    """Up to `limit` transactions newest first, and the cursor for the next page (or None)."""
    statement = _LATEST_TRANSACTIONS.where(*conditions) if conditions else _LATEST_TRANSACTIONS
    rows = TRANSACTION_ROWS.read(session, statement, customer_id=customer_id, limit=limit + 1)
    page = rows[:limit]
    next_cursor = None
    if len(rows) > limit and page:
        next_cursor = encode_cursor(page[-1].occurred_at, page[-1].id)
    return page, next_cursor


def list_transactions(
    *,
    session: Session,
    customer_id: uuid.UUID,
    limit: int = DEFAULT_PAGE_LIMIT,
    before: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    transaction_type: TransactionType | None = None,
    category: str | None = None,
) -> TransactionPage:
    """One page of transactions, newest first, optionally filtered; `before` continues a page."""
    period = utc_period(date_from, date_to)
    occurred = col(PortfolioTransaction.occurred_at)
    conditions: list[Any] = []
    if before:
        conditions.append(older_than(occurred, col(PortfolioTransaction.id), before))
    if period.since is not None:
        conditions.append(occurred >= period.since)
    if period.until is not None:
        conditions.append(occurred < period.until)
    if transaction_type:
        conditions.append(col(PortfolioTransaction.transaction_type) == transaction_type)
    if category:
        conditions.append(col(PortfolioTransaction.category) == category)
    _customer(session, customer_id)
    items, next_cursor = _latest_transactions(session, customer_id, limit, conditions)
    return TransactionPage(
        customer_oid=customer_id, transactions=items, next_cursor=next_cursor, limit=limit
    )


_BANK_ACCOUNTS = (
    select(Account, Institution)
    .join(Institution, col(Account.institution_id) == col(Institution.id))
    .where(col(Account.customer_id) == _CUSTOMER)
    .order_by(col(Account.id))
)


def _bank_accounts(session: Session, customer_id: uuid.UUID) -> list[BankAccountPublic]:
    institutions: dict[int | None, InstitutionPublic] = {}
    accounts = []
    for account, institution in session.exec(
        _BANK_ACCOUNTS, params={"customer_id": customer_id}
    ).all():
        public = institutions.get(institution.id)
        if public is None:
            public = institutions[institution.id] = InstitutionPublic.model_validate(institution)
        accounts.append(BankAccountPublic.from_row(account, public))
    return accounts


# The summary's statements, built once like the sections' above.


def _count(column: Any, owner: Any, distinct: bool = False) -> Any:
    counted = func.count(func.distinct(column)) if distinct else func.count(column)
    return sa_select(counted).where(owner == _CUSTOMER).scalar_subquery()


def _sums(amount: Any, currency: Any, owner: Any) -> Select[Any]:
    return sa_select(currency, func.sum(amount)).where(owner == _CUSTOMER).group_by(currency)


_COUNTS = sa_select(
    _count(col(Asset.id), col(Asset.customer_id)),
    _count(col(Account.id), col(Account.customer_id)),
    _count(col(PortfolioTransaction.id), col(PortfolioTransaction.customer_id)),
    _count(col(Spending.id), col(Spending.customer_id)),
    _count(col(Spending.category), col(Spending.customer_id), distinct=True),
    _count(col(DerivativeTransaction.id), col(DerivativeTransaction.customer_id)),
)
_CASH = _sums(col(Account.balance), col(Account.currency), col(Account.customer_id))
_SPENDING = _sums(col(Spending.amount), col(Spending.currency), col(Spending.customer_id))
_VALUES = _sums(col(Asset.current_value), col(Asset.currency), col(Asset.customer_id))


def _sums_by_currency(
    session: Session, statement: Select[Any], customer_id: uuid.UUID
) -> dict[str, Decimal]:
    rows = session.connection().execute(statement, {"customer_id": customer_id})
    return {code: amount for code, amount in rows}  # noqa: C416 (rows are Row objects)


def reporting_currency(cash: Mapping[str, Decimal], *, bank: Converter) -> str:
    """The currency of most of a customer's cash: the one whose balances, valued in the bank's
    base currency (`bank.target`) at exact rates, are the largest. The bank's base currency when
    two currencies tie for the most, or when no currency holds a positive balance."""
    held = {code: amount for code, amount in cash.items() if amount > 0}
    if len(held) == 1:
        (only,) = held
        return only
    valued = sorted(
        ((amount * bank.rate(code), code) for code, amount in held.items()), reverse=True
    )
    if not valued or (len(valued) > 1 and valued[0][0] == valued[1][0]):
        return bank.target
    return valued[0][1]


def _converter(
    session: Session,
    *,
    base_currency: str | None,
    bank_currency: str,
    cash: Mapping[str, Decimal],
) -> Converter:
    """Into `base_currency` when one is asked for, else into the customer's reporting currency."""
    if base_currency is not None:
        return Converter.load(session=session, target=base_currency)
    bank = Converter.load(session=session, target=bank_currency)
    return bank.into(reporting_currency(cash, bank=bank))


def _cash_by_currency(session: Session, customer_id: uuid.UUID) -> dict[str, Decimal]:
    return _sums_by_currency(session, _CASH, customer_id)


def summarise(
    *, session: Session, customer_id: uuid.UUID, base_currency: str | None, bank_currency: str
) -> PortfolioSummary:
    """The portfolio summary over all of the customer's rows, in four SQL statements plus the
    rates. Totals are converted into `base_currency`, or into the customer's reporting currency
    when it is None (`bank_currency` is the bank's base, the tie-breaker)."""

    counts = session.connection().execute(_COUNTS, {"customer_id": customer_id}).one()
    assets, accounts, transactions, spending_rows, categories, derivatives = counts

    cash = _cash_by_currency(session, customer_id)
    converter = _converter(
        session, base_currency=base_currency, bank_currency=bank_currency, cash=cash
    )
    spending = _sums_by_currency(session, _SPENDING, customer_id)
    values = _sums_by_currency(session, _VALUES, customer_id)
    currencies = sorted(set(cash) | set(spending) | set(values))
    rates = converter.rates_for(currencies)
    return PortfolioSummary(
        customer_oid=customer_id,
        base_currency=converter.target,
        total_cash_balance=converter.total(cash, rates),
        total_spending=converter.total(spending, rates),
        total_assets=assets,
        total_assets_value=converter.total(values, rates),
        total_accounts=accounts,
        total_transactions=transactions,
        total_spending_categories=categories,
        total_derivative_positions=derivatives,
        totals_by_currency={
            code: CurrencyTotals(
                cash_balance=cash.get(code, ZERO),
                spending=spending.get(code, ZERO),
                assets_value=values.get(code, ZERO),
            )
            for code in currencies
        },
        fx_rates=rates,
        has_data=HasData(
            assets=assets > 0,
            accounts=accounts > 0,
            transactions=transactions > 0,
            spending=spending_rows > 0,
            derivatives=derivatives > 0,
        ),
    )


def get_portfolio(
    *,
    session: Session,
    customer_id: uuid.UUID,
    base_currency: str | None,
    bank_currency: str,
    transactions_limit: int = DEFAULT_TRANSACTIONS_LIMIT,
) -> Portfolio:
    """Everything the customer has, with the latest transactions and the summary (converted as
    `summarise` says)."""
    customer = _customer(session, customer_id)
    assets = ASSET_ROWS.read(session, _ASSETS, customer_id=customer_id)
    transactions, next_cursor = _latest_transactions(session, customer_id, transactions_limit)
    spending = SPENDING_ROWS.read(session, _SPENDING_ROWS, customer_id=customer_id)
    derivatives = DERIVATIVE_ROWS.read(session, _DERIVATIVES, customer_id=customer_id)
    return Portfolio(
        customer_oid=customer.id,
        user=PortfolioUser(name=customer.name, customer_oid=customer.id),
        assets=assets,
        bank_accounts=_bank_accounts(session, customer_id),
        transactions=transactions,
        transactions_next_cursor=next_cursor,
        spending=spending,
        derivative_transactions=derivatives,
        portfolio_summary=summarise(
            session=session,
            customer_id=customer_id,
            base_currency=base_currency,
            bank_currency=bank_currency,
        ),
    )


def get_summary(
    *, session: Session, customer_id: uuid.UUID, base_currency: str | None, bank_currency: str
) -> PortfolioSummary:
    """Only the portfolio's summary: the totals without the rows (four SQL statements plus the
    customer and the rates)."""
    _customer(session, customer_id)
    return summarise(
        session=session,
        customer_id=customer_id,
        base_currency=base_currency,
        bank_currency=bank_currency,
    )


def _month(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    text = value.strip()
    if not re.fullmatch(MONTH_PATTERN, text):
        raise ValidationFailed(f"'{name}' must be a month like 2025-03 (YYYY-MM), not {text!r}")
    return text


def spending_by_category(
    *,
    session: Session,
    customer_id: uuid.UUID,
    base_currency: str | None,
    bank_currency: str,
    from_month: str | None = None,
    to_month: str | None = None,
) -> SpendingByCategory:
    """Spending per category over the months from `from_month` to `to_month` (both included,
    either open), summed in SQL per category and currency, the largest category first; totals
    in `base_currency`, else in the customer's reporting currency, as in the summary."""
    first, last = _month(from_month, "from_month"), _month(to_month, "to_month")
    if first and last and first > last:
        raise ValidationFailed("'from_month' must not be after 'to_month'")
    _customer(session, customer_id)
    cash = {} if base_currency is not None else _cash_by_currency(session, customer_id)
    converter = _converter(
        session, base_currency=base_currency, bank_currency=bank_currency, cash=cash
    )
    conditions: list[Any] = [col(Spending.customer_id) == customer_id]
    if first:
        conditions.append(col(Spending.month) >= first)
    if last:
        conditions.append(col(Spending.month) <= last)
    category, currency = col(Spending.category), col(Spending.currency)
    sums = session.exec(
        select(category, currency, func.sum(col(Spending.amount)))
        .where(*conditions)
        .group_by(category, currency)
    ).all()
    months = session.exec(
        select(col(Spending.month)).where(*conditions).distinct().order_by(col(Spending.month))
    ).all()

    by_category: dict[str, dict[str, Decimal]] = {}
    by_currency: dict[str, Decimal] = {}
    for name, code, amount in sums:
        by_category.setdefault(name, {})[code] = amount
        by_currency[code] = by_currency.get(code, ZERO) + amount
    rates = converter.rates_for(by_currency)
    categories = [
        CategorySpending(
            category=name,
            total=converter.total(amounts, rates),
            totals_by_currency=dict(sorted(amounts.items())),
        )
        for name, amounts in by_category.items()
    ]
    categories.sort(key=lambda item: (-item.total, item.category))
    return SpendingByCategory(
        customer_oid=customer_id,
        from_month=first,
        to_month=last,
        months=list(months),
        base_currency=converter.target,
        total=converter.total(by_currency, rates),
        categories=categories,
        fx_rates=rates,
    )
