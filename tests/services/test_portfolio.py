"""The portfolio service: cursors, conversion and the summary against the rows themselves."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from app.errors import CustomerNotFound, FxRateMissing, UnsupportedCurrency
from app.models.account import AccountType
from app.models.portfolio_transaction import PortfolioTransaction
from app.services import fx, portfolio
from app.services.fx import Converter
from tests.utils.portfolio import (
    add_account,
    add_asset,
    add_customer,
    add_institution,
    add_spending,
    add_transactions,
    transaction_rows,
)

RATES = {
    ("EUR", "USD"): Decimal("1.0850"),
    ("EUR", "GBP"): Decimal("0.8550"),
    ("CHF", "JPY"): Decimal("170.00"),
}


def test_converter_direct_inverse_cross_and_same() -> None:
    converter = Converter(target="EUR", rates=RATES)
    assert converter.rate("EUR") == 1
    assert converter.rate("USD") == Decimal("0.9216589862")
    to_usd = Converter(target="USD", rates=RATES)
    assert to_usd.rate("EUR") == Decimal("1.0850")
    assert to_usd.rate("GBP") == Decimal("1.2690058480")
    with pytest.raises(FxRateMissing, match="convert CHF into USD"):
        to_usd.rate("CHF")


def test_converter_rounds_half_even_once_at_the_end() -> None:
    converter = Converter(target="EUR", rates={("EUR", "USD"): Decimal("2")})
    rates = converter.rates_for(["USD", "EUR"])
    assert rates == {"EUR": Decimal(1), "USD": Decimal("0.5")}
    # 0.01 USD is 0.005 EUR: alone it rounds to 0.00 (half-even), with another 0.01 to 0.01.
    assert converter.total({"USD": Decimal("0.01")}, rates) == Decimal("0.00")
    assert converter.total({"USD": Decimal("0.03")}, rates) == Decimal("0.02")
    assert converter.total({"USD": Decimal("0.01"), "EUR": Decimal("0.01")}, rates) == Decimal(
        "0.02"
    )
    assert converter.total({}, rates) == Decimal("0.00")


def test_converter_needs_a_supported_target(session: Session) -> None:
    with pytest.raises(UnsupportedCurrency):
        Converter.load(session=session, target="JPY")
    loaded = Converter.load(session=session, target=" usd ")
    assert loaded.target == "USD"
    assert loaded.rates[("EUR", "USD")] == Decimal("1.0850")


def test_default_rates_are_inserted_once(session: Session) -> None:
    assert fx.ensure_defaults(session=session, rates={"EUR/USD": Decimal(3)}) == 0
    assert fx.get_rate(session=session, base="EUR", quote="USD").rate == Decimal("1.0850")


def test_summary_matches_sql_over_every_row(session: Session) -> None:
    customer_id = add_customer(session)
    bank = add_institution(session)
    add_account(session, customer_id, bank, balance="0.10", currency="USD")
    add_account(
        session, customer_id, bank, balance="0.00", currency="USD", account_type=AccountType.saving
    )
    add_asset(session, customer_id, "VWRL", quantity="12.34567891", value="1500.99", currency="EUR")
    for month, amount in (("2025-01", "10.01"), ("2025-02", "20.02"), ("2025-03", "30.03")):
        add_spending(session, customer_id, "rent", month=month, amount=amount)
    add_transactions(session, transaction_rows(customer_id, 2_345))
    summary = portfolio.summarise(
        session=session,
        customer_id=customer_id,
        converter=Converter.load(session=session, target="EUR"),
    )
    stored = session.exec(
        select(func.count())
        .select_from(PortfolioTransaction)
        .where(col(PortfolioTransaction.customer_id) == customer_id)
    ).one()
    assert summary.total_transactions == stored == 2_345
    assert summary.total_spending == Decimal("60.06")
    assert summary.total_spending_categories == 1
    assert summary.total_assets_value == Decimal("1500.99")
    assert summary.total_cash_balance == Decimal("0.09")  # 0.10 * 0.9216589862 = 0.0921...
    assert summary.has_data.derivatives is False
    accounts = portfolio.get_portfolio(
        session=session, customer_id=customer_id, base_currency="EUR"
    ).bank_accounts
    assert [a.institution.name for a in accounts] == ["First National Bank"] * 2


def test_unknown_customer(session: Session) -> None:
    with pytest.raises(CustomerNotFound):
        portfolio.get_portfolio(session=session, customer_id=uuid.uuid4(), base_currency="EUR")
    with pytest.raises(CustomerNotFound):
        portfolio.list_transactions(session=session, customer_id=uuid.uuid4())
