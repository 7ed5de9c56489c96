from decimal import Decimal

import pytest
from pydantic import BaseModel, ValidationError
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, func, insert, select, text
from sqlalchemy.dialects import sqlite

from app.core.money import (
    MoneyOut,
    PositiveAmount,
    PositiveRate,
    QuantityOut,
    ScaledDecimal,
    money_column,
    quantity_column,
    to_money,
)

DIALECT = sqlite.dialect()


# Binding (Python -> database)


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        (Decimal("25000.00"), 2500000),
        (Decimal("0.01"), 1),
        (Decimal("12.3"), 1230),
        (Decimal("-4.50"), -450),
        (7, 700),
        ("19.99", 1999),
        (Decimal("1E+3"), 100000),
    ],
)
def test_money_is_stored_as_integer_cents(value: object, stored: int) -> None:
    assert money_column().process_bind_param(value, DIALECT) == stored


def test_floats_are_refused() -> None:
    with pytest.raises(TypeError, match="floats are not accepted"):
        money_column().process_bind_param(0.1, DIALECT)


@pytest.mark.parametrize("value", [Decimal("0.001"), Decimal("1.234"), "2.005"])
def test_too_many_places_are_refused_not_rounded(value: object) -> None:
    with pytest.raises(ValueError, match="more than 2 decimal places"):
        money_column().process_bind_param(value, DIALECT)


def test_quantities_keep_eight_places() -> None:
    column = quantity_column()
    assert column.process_bind_param(Decimal("0.00000001"), DIALECT) == 1
    with pytest.raises(ValueError, match="more than 8 decimal places"):
        column.process_bind_param(Decimal("0.000000001"), DIALECT)


def test_none_passes_through() -> None:
    column = money_column()
    assert column.process_bind_param(None, DIALECT) is None
    assert column.process_result_value(None, DIALECT) is None


# Reading back and the round trip


def test_result_is_an_exact_decimal_with_its_scale() -> None:
    value = money_column().process_result_value(2500000, DIALECT)
    assert value == Decimal("25000.00")
    assert str(value) == "25000.00"
    assert str(quantity_column().process_result_value(150000000, DIALECT)) == "1.50000000"


@pytest.mark.parametrize(
    ("scale", "text_value"),
    [
        (0, "0"),
        (0, "-42"),
        (2, "0.01"),
        (2, "0.10"),
        (2, "-42.07"),
        (2, "123456789.12"),
        (8, "0.00000001"),
        (8, "123.45678900"),
    ],
)
def test_bind_then_result_round_trips(scale: int, text_value: str) -> None:
    amount = Decimal(text_value)
    column = ScaledDecimal(scale)
    stored = column.process_bind_param(amount, DIALECT)
    assert isinstance(stored, int)
    assert column.process_result_value(stored, DIALECT) == amount


def test_database_round_trip_and_sum_are_exact() -> None:
    metadata = MetaData()
    table = Table(
        "amounts",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("money", money_column()),
        Column("quantity", quantity_column()),
    )
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    amounts = [Decimal("0.10"), Decimal("0.20"), Decimal("25000.00"), Decimal("9007199254740.99")]
    with engine.begin() as connection:
        for amount in amounts:
            connection.execute(insert(table).values(money=amount, quantity=Decimal("0.12345678")))
        raw = connection.execute(text("SELECT money FROM amounts ORDER BY id")).scalars().all()
        read = connection.execute(select(table.c.money).order_by(table.c.id)).scalars().all()
        quantities = connection.execute(select(table.c.quantity)).scalars().all()
        total = connection.execute(select(func.sum(table.c.money))).scalar_one()
    assert raw == [10, 20, 2500000, 900719925474099]
    assert read == amounts
    assert quantities == [Decimal("0.12345678")] * 4
    # SUM over integer cents is exact: 0.10 + 0.20 is 0.30, not 0.30000000000000004.
    assert total == sum(amounts)
    assert str(total) == "9007199279741.29"
    engine.dispose()


# Output and input types


class Out(BaseModel):
    money: MoneyOut
    quantity: QuantityOut


class In(BaseModel):
    amount: PositiveAmount


class Rate(BaseModel):
    rate: PositiveRate


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0.125", "0.12"), ("0.135", "0.14"), ("2", "2.00"), ("-1.005", "-1.00"), ("7.5", "7.50")],
)
def test_to_money_rounds_half_even_to_cents(value: str, expected: str) -> None:
    assert str(to_money(value)) == expected


def test_money_and_quantities_serialise_as_strings() -> None:
    out = Out(money=Decimal("25000"), quantity=Decimal("1.50000000"))
    assert out.model_dump(mode="json") == {"money": "25000.00", "quantity": "1.5"}
    assert out.model_dump() == {"money": "25000.00", "quantity": "1.5"}
    big = Out(money=Decimal("0.1"), quantity=Decimal("100"))
    assert big.model_dump(mode="json") == {"money": "0.10", "quantity": "100"}


@pytest.mark.parametrize("amount", ["25.00", "0.01", 5, "999999999999.99"])
def test_positive_amount_accepts(amount: object) -> None:
    assert In(amount=amount).amount == Decimal(str(amount))


@pytest.mark.parametrize("amount", ["0", "-1", "0.001", "1.234", "abc", "1e20"])
def test_positive_amount_refuses(amount: object) -> None:
    with pytest.raises(ValidationError):
        In(amount=amount)


# Lenient forms that Python's Decimal reads but an amount must not be written in.
LENIENT = [
    "\u0661\u0660",  # Arabic-Indic "10"
    "\uff11\uff10",  # full-width "10"
    "1_000",
    " 5 ",
    "5 ",
    "5\n",
    "5.",
    ".5",
    "1E-2",
    "1e2",
    "+5",
    "5,00",
    "0x10",
]


@pytest.mark.parametrize("amount", LENIENT)
def test_positive_amount_takes_plain_ascii_digits_only(amount: str) -> None:
    with pytest.raises(ValidationError, match="ASCII digits with at most 2 decimals"):
        In(amount=amount)


@pytest.mark.parametrize("rate", [*LENIENT, "1.123456789"])
def test_positive_rate_takes_plain_ascii_digits_only(rate: str) -> None:
    with pytest.raises(ValidationError):
        Rate(rate=rate)


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("5", "5"),
        ("5.5", "5.5"),
        ("0.01", "0.01"),
        ("007.10", "7.10"),
        (10, "10"),
        (0.01, "0.01"),
        (12.5, "12.5"),
        (Decimal("2.50"), "2.50"),
    ],
)
def test_positive_amount_still_takes_json_numbers_and_decimals(
    amount: object, expected: str
) -> None:
    assert In(amount=amount).amount == Decimal(expected)


def test_positive_rate_takes_eight_places() -> None:
    assert Rate(rate="0.12345678").rate == Decimal("0.12345678")
    assert Rate(rate=1.085).rate == Decimal("1.085")


def test_input_schemas_show_the_string_pattern() -> None:
    amount = In.model_json_schema()["properties"]["amount"]
    assert amount["anyOf"] == [
        {"type": "number", "exclusiveMinimum": 0},
        {"type": "string", "pattern": r"^[0-9]+(\.[0-9]{1,2})?$"},
    ]
    rate = Rate.model_json_schema()["properties"]["rate"]
    assert rate["anyOf"][1] == {"type": "string", "pattern": r"^[0-9]+(\.[0-9]{1,8})?$"}
