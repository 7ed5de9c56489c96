"""Exact money: integer minor units in the database, never floats."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.core.money import ScaledDecimal, money_column, quantity_column, to_money


@pytest.mark.parametrize(
    ("value", "stored"),
    [(Decimal("12.34"), 1234), ("0.10", 10), (5, 500), (Decimal("-7.5"), -750), (None, None)],
)
def test_money_is_stored_in_cents(value: object, stored: int | None) -> None:
    assert money_column().process_bind_param(value, dialect=None) == stored  # type: ignore[arg-type]


def test_floats_and_fractions_of_a_cent_are_refused() -> None:
    column = money_column()
    with pytest.raises(TypeError, match="floats"):
        column.process_bind_param(0.1, dialect=None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="more than 2 decimal places"):
        column.process_bind_param(Decimal("0.001"), dialect=None)  # type: ignore[arg-type]


def test_cents_come_back_as_exact_decimals() -> None:
    column = money_column()
    assert column.process_result_value(1234, dialect=None) == Decimal("12.34")  # type: ignore[arg-type]
    assert column.process_result_value(None, dialect=None) is None  # type: ignore[arg-type]
    assert isinstance(quantity_column(), ScaledDecimal)
    assert quantity_column().process_bind_param(Decimal("0.00000001"), dialect=None) == 1  # type: ignore[arg-type]


def test_to_money_rounds_half_to_even() -> None:
    assert to_money("2.345") == Decimal("2.34")
    assert to_money("2.355") == Decimal("2.36")
    assert str(to_money(3)) == "3.00"
