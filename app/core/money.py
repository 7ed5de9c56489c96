"""Exact amounts: `Decimal` in Python, integers in the database, decimal strings in JSON."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, PlainSerializer, WithJsonSchema
from sqlalchemy import BigInteger
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

MONEY_SCALE = 2
QUANTITY_SCALE = 8
CENT = Decimal(1).scaleb(-MONEY_SCALE)


class ScaledDecimal(TypeDecorator[Decimal]):
    """A `Decimal` with a fixed number of places, kept as an integer count of its smallest unit.

    Integers are exact in SQLite and PostgreSQL alike, and `SUM()` over them stays exact.
    """

    impl = BigInteger
    cache_ok = True

    def __init__(self, scale: int) -> None:
        super().__init__()
        self.scale = scale

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("floats are not accepted for exact amounts")
        amount = value if isinstance(value, Decimal) else Decimal(value)
        scaled = amount.scaleb(self.scale)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{amount} has more than {self.scale} decimal places")
        return int(scaled)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(int(value)).scaleb(-self.scale)


def money_column() -> ScaledDecimal:
    return ScaledDecimal(MONEY_SCALE)


def quantity_column() -> ScaledDecimal:
    return ScaledDecimal(QUANTITY_SCALE)


def price_column() -> ScaledDecimal:
    """Unit prices and FX rates: eight places, so 1.0850 EUR/USD or a 0.00012 BTC strike fit."""
    return ScaledDecimal(QUANTITY_SCALE)


def to_money(value: Decimal | int | str) -> Decimal:
    """Round to cents (banker's rounding) with exactly two places."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_EVEN)


def _money_str(value: Decimal) -> str:
    return str(to_money(value))


def _quantity_str(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _price_str(value: Decimal) -> str:
    """No trailing zeros beyond the cents: "180.00", "1.085", "0.9216589862"."""
    normalised = value.normalize()
    exponent = normalised.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -MONEY_SCALE:
        normalised = normalised.quantize(CENT)
    return format(normalised, "f")


# Output types are always strings, and their JSON schema says so in both modes: a schema made
# for validation (the MCP tools' output schemas) would otherwise offer "number or string".
_STRING_SCHEMA = WithJsonSchema({"type": "string"}, mode="validation")

# Output types: always a string with two places ("25000.00"); quantities without trailing zeros.
MoneyOut = Annotated[
    Decimal, PlainSerializer(_money_str, return_type=str, when_used="always"), _STRING_SCHEMA
]
QuantityOut = Annotated[
    Decimal, PlainSerializer(_quantity_str, return_type=str, when_used="always"), _STRING_SCHEMA
]
# Prices and rates (up to QUANTITY_SCALE places): at least two decimals, no trailing zeros after.
PriceOut = Annotated[
    Decimal, PlainSerializer(_price_str, return_type=str, when_used="always"), _STRING_SCHEMA
]


def decimal_text_pattern(places: int) -> str:
    """A decimal in plain ASCII digits with at most `places` decimals: "25", "25.5", "25.50".

    Python's `Decimal` reads far more (digits of other scripts, "1_000", " 5 ", "5.", ".5",
    "1E-2"); an amount that moves money is taken only in the one form everybody writes the
    same way.
    """
    return rf"^[0-9]+(\.[0-9]{{1,{places}}})?$"


def _decimal_text(places: int) -> BeforeValidator:
    pattern = re.compile(decimal_text_pattern(places).strip("^$"))

    def check(value: Any) -> Any:
        if isinstance(value, str) and not pattern.fullmatch(value):
            raise ValueError(
                f"must be a decimal number in ASCII digits with at most {places} decimals, "
                'such as "25.00" (no sign, spaces, exponent or digit separators)'
            )
        return value

    return BeforeValidator(check)


def _positive_decimal_schema(places: int, example: str) -> WithJsonSchema:
    return WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "exclusiveMinimum": 0},
                {"type": "string", "pattern": decimal_text_pattern(places)},
            ],
            "examples": [example],
        },
        mode="validation",
    )


# Input type for amounts that move money: > 0, at most two decimals; a JSON number, or a string
# of ASCII digits with at most two decimals ("25", "25.5", "25.50").
PositiveAmount = Annotated[
    Decimal,
    _decimal_text(MONEY_SCALE),
    Field(gt=0, max_digits=15, decimal_places=MONEY_SCALE),
    _positive_decimal_schema(MONEY_SCALE, "25.00"),
]
# Input type for FX rates and unit prices: > 0, at most eight decimals, in the same forms.
PositiveRate = Annotated[
    Decimal,
    _decimal_text(QUANTITY_SCALE),
    Field(gt=0, max_digits=20, decimal_places=QUANTITY_SCALE),
    _positive_decimal_schema(QUANTITY_SCALE, "1.0850"),
]
