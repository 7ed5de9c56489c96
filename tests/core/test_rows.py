"""PublicRows: a public model read straight from its table's columns."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError
from sqlmodel import Field, SQLModel

from app.core.rows import PublicRow, PublicRows
from app.models.account import ACCOUNT_ROWS, Account, AccountPublic, AccountType


def test_rows_become_validated_public_models() -> None:
    rows = ACCOUNT_ROWS
    assert [column.name for column in rows.columns] == list(AccountPublic.model_fields)
    created = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    (account,) = rows.validate(
        [
            {
                "account_type": "saving",
                "currency": "EUR",
                "iban": "NL91ABNA0417164300",
                "balance": Decimal("12.50"),
                "available_balance": Decimal("10.00"),
                "created_at": created,
            }
        ]
    )
    assert isinstance(account, AccountPublic)
    assert account.account_type is AccountType.saving
    assert account.model_dump(mode="json")["balance"] == "12.50"
    assert account.model_dump(mode="json")["available_balance"] == "10.00"


def test_a_field_read_from_an_expression_is_labelled_with_its_name() -> None:
    # An account's available balance is computed in the statement (balance less held).
    with pytest.raises(TypeError, match=r"AccountPublic\.available_balance: no column"):
        PublicRows(AccountPublic, Account)


def test_a_field_without_a_column_is_refused_when_the_read_is_declared() -> None:
    class Shown(PublicRow):
        currency: str
        nickname: str = Field(description="no such column")

    with pytest.raises(TypeError, match=r"Shown\.nickname: no column to read it from"):
        PublicRows(Shown, Account)


def test_a_public_model_on_sqlmodels_own_init_is_refused() -> None:
    # SQLModel's __init__ would make pydantic validate every row through Python.
    class Slow(SQLModel):
        currency: str

    with pytest.raises(TypeError, match="Slow must be a PublicRow"):
        PublicRows(Slow, Account)


def test_a_public_row_validates_as_the_sqlmodel_it_replaces() -> None:
    created = datetime(2026, 1, 2, tzinfo=UTC)
    fields = {"account_type": "checking", "currency": "EUR", "iban": "NL91ABNA0417164300",
              "balance": "1.5", "available_balance": "1.5", "created_at": created}  # fmt: skip
    built = AccountPublic(**fields)
    assert built.balance == Decimal("1.5")
    assert built.model_dump(mode="json")["balance"] == "1.50"
    assert built.model_fields_set == set(fields)
    with pytest.raises(ValidationError, match="account_type"):
        AccountPublic(**{**fields, "account_type": "vault"})
    with pytest.raises(ValidationError, match="balance"):
        ACCOUNT_ROWS.validate([{**fields, "balance": "lots"}])
