"""The portfolio-analysis API's portfolio and transaction pages: shapes over several entities."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field

from app.core.money import MoneyOut, PriceOut
from app.models.account import BankAccountPublic
from app.models.asset import AssetPublic
from app.models.derivative_transaction import DerivativeTransactionPublic
from app.models.portfolio_transaction import PortfolioTransactionPublic
from app.models.spending import SpendingPublic


class PortfolioUser(BaseModel):
    name: str
    customer_oid: uuid.UUID


class CurrencyTotals(BaseModel):
    """Totals in one currency, exactly as stored: never converted."""

    cash_balance: MoneyOut
    spending: MoneyOut
    assets_value: MoneyOut


class HasData(BaseModel):
    assets: bool
    accounts: bool
    transactions: bool
    spending: bool
    derivatives: bool


class PortfolioSummary(BaseModel):
    customer_oid: uuid.UUID
    base_currency: str = Field(
        description="The currency of every converted total below: the `base_currency` asked "
        "for, else the customer's reporting currency (the currency of most of their cash, "
        "valued at the bank's base currency; the bank's base currency on a tie or with no cash)"
    )
    total_cash_balance: MoneyOut = Field(description="All bank accounts, in base_currency")
    total_spending: MoneyOut = Field(description="All spending rows, in base_currency")
    total_assets: int = Field(description="Number of holdings")
    total_assets_value: MoneyOut = Field(description="Current value of holdings, base_currency")
    total_accounts: int
    total_transactions: int = Field(description="All transactions, not only the embedded ones")
    total_spending_categories: int
    total_derivative_positions: int
    totals_by_currency: dict[str, CurrencyTotals]
    fx_rates: dict[str, PriceOut] = Field(
        description="Units of base_currency per unit of each currency, as used for the totals"
    )
    has_data: HasData


class Portfolio(BaseModel):
    customer_oid: uuid.UUID
    user: PortfolioUser
    assets: list[AssetPublic]
    bank_accounts: list[BankAccountPublic]
    transactions: list[PortfolioTransactionPublic] = Field(
        description="The latest `transactions_limit` transactions, newest first"
    )
    transactions_next_cursor: str | None = Field(
        description="Pass as `before` to /user-portfolio/{customer_oid}/transactions for older "
        "ones; null when all are embedded"
    )
    spending: list[SpendingPublic]
    derivative_transactions: list[DerivativeTransactionPublic]
    portfolio_summary: PortfolioSummary


class TransactionPage(BaseModel):
    customer_oid: uuid.UUID
    transactions: list[PortfolioTransactionPublic]
    next_cursor: str | None = Field(description="`before` for the next (older) page; null at end")
    limit: int


class CategorySpending(BaseModel):
    category: str
    total: MoneyOut = Field(description="All currencies converted into base_currency")
    totals_by_currency: dict[str, MoneyOut] = Field(description="Exact sums, never converted")


class SpendingByCategory(BaseModel):
    """Spending per category over a range of months, the largest category first."""

    customer_oid: uuid.UUID
    from_month: str | None = Field(description="First month included (YYYY-MM); null: no bound")
    to_month: str | None = Field(description="Last month included (YYYY-MM); null: no bound")
    months: list[str] = Field(description="Months in the range that have spending, oldest first")
    base_currency: str = Field(description="The currency of every converted total")
    total: MoneyOut = Field(description="All categories, in base_currency")
    categories: list[CategorySpending]
    fx_rates: dict[str, PriceOut] = Field(
        description="Units of base_currency per unit of each currency, as used for the totals"
    )
