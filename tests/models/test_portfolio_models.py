"""Input models of the portfolio entities, and the exact-amount column and serialisers."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import BaseModel, ValidationError

from app.core.config import Settings
from app.core.money import PriceOut, QuantityOut, ScaledDecimal
from app.models.asset import AssetCreate
from app.models.customer import CustomerCreate
from app.models.derivative_transaction import DerivativeTransactionCreate
from app.models.portfolio_transaction import PortfolioTransactionCreate
from app.models.spending import SpendingCreate


def test_asset_create_normalises_codes_and_refuses_bad_numbers() -> None:
    asset = AssetCreate(
        asset_type="crypto", symbol=" btc ", currency="usd", quantity="2.5", current_value="1.00"
    )
    assert (asset.symbol, asset.currency, asset.quantity) == ("BTC", "USD", Decimal("2.5"))
    for bad in ({"quantity": "0"}, {"quantity": "0.123456789"}, {"current_value": "1.001"}):
        fields = {
            "asset_type": "stock",
            "symbol": "X",
            "currency": "EUR",
            "quantity": "1",
            "current_value": "1",
        }
        with pytest.raises(ValidationError):
            AssetCreate(**{**fields, **bad})


def test_transaction_create_needs_a_non_zero_amount() -> None:
    fields = {
        "transaction_type": "card",
        "occurred_at": datetime(2025, 1, 1, tzinfo=UTC),
        "currency": "EUR",
    }
    assert PortfolioTransactionCreate(**fields, amount="-12.50").amount == Decimal("-12.50")
    with pytest.raises(ValidationError, match="must not be zero"):
        PortfolioTransactionCreate(**fields, amount="0.00")
    with pytest.raises(ValidationError):
        PortfolioTransactionCreate(**fields, amount="1.005")


@pytest.mark.parametrize("month", ["2025-13", "2025-1", "25-01", "2025/01"])
def test_spending_month_is_yyyy_mm(month: str) -> None:
    with pytest.raises(ValidationError):
        SpendingCreate(category="rent", month=month, currency="EUR", amount="1")
    assert SpendingCreate(category="rent", month="2025-12", currency="EUR", amount="1").month


def test_derivative_create_limits() -> None:
    fields = {
        "derivative_type": "put",
        "side": "sell",
        "asset_symbol": "SPY",
        "currency": "USD",
        "execution_date": "2025-01-01",
        "expiration_date": "2025-03-21",
        "quantity": "2",
    }
    assert DerivativeTransactionCreate(**fields, strike_price="1.0950").strike_price == Decimal(
        "1.0950"
    )
    with pytest.raises(ValidationError):
        DerivativeTransactionCreate(**fields, strike_price="0")


def test_customer_create_strips_the_name() -> None:
    assert CustomerCreate(name="  Ann  ").name == "Ann"
    with pytest.raises(ValidationError):
        CustomerCreate(name=" A ")


def test_scaled_decimal_is_exact_or_refuses() -> None:
    money = ScaledDecimal(2)
    assert money.process_bind_param(Decimal("12.30"), None) == 1230  # type: ignore[arg-type]
    assert money.process_bind_param("0.07", None) == 7  # type: ignore[arg-type]
    assert money.process_bind_param(None, None) is None  # type: ignore[arg-type]
    assert money.process_result_value(1230, None) == Decimal("12.30")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        money.process_bind_param(0.1, None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="more than 2 decimal places"):
        money.process_bind_param(Decimal("0.001"), None)  # type: ignore[arg-type]


class _Out(BaseModel):
    price: PriceOut
    quantity: QuantityOut


@pytest.mark.parametrize(
    ("price", "shown"),
    [
        ("180", "180.00"),
        ("180.5", "180.50"),
        ("1.08500000", "1.085"),
        ("0.00012", "0.00012"),
        ("1E+3", "1000.00"),
    ],
)
def test_prices_show_at_least_cents_and_no_trailing_zeros(price: str, shown: str) -> None:
    out = _Out(price=Decimal(price), quantity=Decimal("2.50000000")).model_dump()
    assert out == {"price": shown, "quantity": "2.5"}


def test_fx_settings_are_checked() -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        default_fx_rates={"eur/chf": Decimal("0.94")},
        base_currency="usd",
    )
    assert settings.default_fx_rates == {"EUR/CHF": Decimal("0.94")}
    assert settings.base_currency == "USD"
    for bad in ({"EURUSD": Decimal(1)}, {"EUR/EUR": Decimal(1)}, {"EUR/USD": Decimal(0)}):
        with pytest.raises(ValidationError):
            Settings(_env_file=None, default_fx_rates=bad)  # type: ignore[call-arg]
