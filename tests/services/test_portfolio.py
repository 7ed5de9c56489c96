"""The portfolio service: cursors, conversion and the summary against the rows themselves."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.errors import CustomerNotFound, FxRateMissing, UnsupportedCurrency, ValidationFailed
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
    count_statements,
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
        base_currency="EUR",
        bank_currency="EUR",
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
        session=session, customer_id=customer_id, base_currency="EUR", bank_currency="EUR"
    ).bank_accounts
    assert [a.institution.name for a in accounts] == ["First National Bank"] * 2


def test_unknown_customer(session: Session) -> None:
    with pytest.raises(CustomerNotFound):
        portfolio.get_portfolio(
            session=session, customer_id=uuid.uuid4(), base_currency="EUR", bank_currency="EUR"
        )
    with pytest.raises(CustomerNotFound):
        portfolio.list_transactions(session=session, customer_id=uuid.uuid4())
    with pytest.raises(CustomerNotFound):
        portfolio.get_summary(
            session=session, customer_id=uuid.uuid4(), base_currency="EUR", bank_currency="EUR"
        )
    with pytest.raises(CustomerNotFound):
        portfolio.spending_by_category(
            session=session, customer_id=uuid.uuid4(), base_currency="EUR", bank_currency="EUR"
        )


def test_get_summary_is_the_portfolios_summary(session: Session) -> None:
    customer_id = add_customer(session)
    add_asset(session, customer_id, "AAPL", quantity="1", value="100.00")
    add_spending(session, customer_id, "rent", month="2025-01", amount="10.00", currency="USD")
    summary = portfolio.get_summary(
        session=session, customer_id=customer_id, base_currency="usd", bank_currency="EUR"
    )
    whole = portfolio.get_portfolio(
        session=session, customer_id=customer_id, base_currency="USD", bank_currency="EUR"
    )
    assert summary == whole.portfolio_summary
    assert summary.base_currency == "USD"
    with pytest.raises(UnsupportedCurrency):
        portfolio.get_summary(
            session=session, customer_id=customer_id, base_currency="JPY", bank_currency="EUR"
        )


def test_spending_by_category_sums_in_sql_over_every_row(session: Session) -> None:
    customer_id = add_customer(session)
    months = [f"2024-{m:02d}" for m in range(1, 13)] + ["2025-01", "2025-02"]
    for month in months:
        add_spending(session, customer_id, "rent", month=month, amount="1000.00")
        add_spending(session, customer_id, "dining", month=month, amount="10.01")
        add_spending(session, customer_id, "dining", month=month, amount="1.00", currency="USD")
    other = add_customer(session, "Someone Else")
    add_spending(session, other, "rent", month="2024-06", amount="9999.99")

    every = portfolio.spending_by_category(
        session=session, customer_id=customer_id, base_currency="EUR", bank_currency="EUR"
    )
    assert every.months == months
    assert [(c.category, c.totals_by_currency) for c in every.categories] == [
        ("rent", {"EUR": Decimal("14000.00")}),
        ("dining", {"EUR": Decimal("140.14"), "USD": Decimal("14.00")}),
    ]
    year = portfolio.spending_by_category(
        session=session,
        customer_id=customer_id,
        base_currency="USD",
        bank_currency="EUR",
        from_month=" 2024-01",
        to_month="2024-12 ",
    )
    assert (year.from_month, year.to_month, len(year.months)) == ("2024-01", "2024-12", 12)
    dining = year.categories[1]
    assert dining.totals_by_currency == {"EUR": Decimal("120.12"), "USD": Decimal("12.00")}
    assert dining.total == Decimal("142.33")  # 120.12 * 1.0850 = 130.3302, + 12.00, once
    assert year.total == Decimal("13162.33")  # (12000.00 + 120.12) * 1.0850 + 12.00
    assert year.fx_rates == {"EUR": Decimal("1.0850"), "USD": Decimal(1)}


def test_spending_by_category_is_a_fixed_number_of_statements(
    session: Session, engine: Engine
) -> None:
    customer_id = add_customer(session)
    for month in ("2025-01", "2025-02", "2025-03"):
        add_spending(session, customer_id, "rent", month=month, amount="1.00")
    with count_statements(engine) as statements:
        portfolio.spending_by_category(
            session=session, customer_id=customer_id, base_currency="EUR", bank_currency="EUR"
        )
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    # The customer, the currency's support, the rates, the sums, the months: whatever the rows.
    assert len(selects) == 5, selects


@pytest.mark.parametrize(
    ("from_month", "to_month", "message"),
    [
        ("2025-13", None, "'from_month' must be a month like 2025-03 (YYYY-MM), not '2025-13'"),
        (None, "25-01", "'to_month' must be a month like 2025-03 (YYYY-MM), not '25-01'"),
        ("2025-03", "2025-02", "'from_month' must not be after 'to_month'"),
    ],
)
def test_spending_by_category_checks_its_months(
    session: Session, from_month: str | None, to_month: str | None, message: str
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        portfolio.spending_by_category(
            session=session,
            customer_id=add_customer(session),
            base_currency="EUR",
            bank_currency="EUR",
            from_month=from_month,
            to_month=to_month,
        )
    assert raised.value.message == message


# --- the reporting currency --------------------------------------------------------------------

BANK = Converter(target="EUR", rates=RATES)


@pytest.mark.parametrize(
    ("cash", "expected"),
    [
        ({"USD": Decimal("50000.00"), "EUR": Decimal("25000.00")}, "USD"),  # John Doe
        ({"GBP": Decimal("12450.00"), "EUR": Decimal("40000.00")}, "EUR"),
        ({"USD": Decimal("0.01")}, "USD"),  # one currency: no rate needed
        ({"CHF": Decimal("5.00"), "EUR": Decimal("0.00")}, "CHF"),  # no rate CHF->EUR needed
        ({"USD": Decimal("100.00"), "EUR": Decimal("-500.00")}, "USD"),  # an overdraft is no cash
        ({}, "EUR"),  # no cash: the bank's base
        ({"USD": Decimal("0.00"), "GBP": Decimal("-1.00")}, "EUR"),
    ],
)
def test_reporting_currency_is_the_currency_of_most_of_the_cash(
    cash: dict[str, Decimal], expected: str
) -> None:
    assert portfolio.reporting_currency(cash, bank=BANK) == expected


def test_reporting_currency_on_a_tie_is_the_banks_base() -> None:
    exact = Converter(target="EUR", rates={("EUR", "USD"): Decimal(2), ("EUR", "GBP"): Decimal(4)})
    assert portfolio.reporting_currency({"USD": Decimal(200), "GBP": Decimal(400)}, bank=exact) == (
        "EUR"
    )
    three = {"USD": Decimal(200), "GBP": Decimal(400), "EUR": Decimal(101)}
    assert portfolio.reporting_currency(three, bank=exact) == "EUR"  # EUR leads outright
    assert portfolio.reporting_currency({**three, "EUR": Decimal(99)}, bank=exact) == "EUR"  # tie
