"""PublicRows: a public model read straight from its table's columns."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlmodel import Field, SQLModel

from app.core.rows import PublicRows
from app.models.account import Account, AccountPublic, AccountType


def test_rows_become_validated_public_models() -> None:
    rows = PublicRows(AccountPublic, Account)
    assert [column.name for column in rows.columns] == list(AccountPublic.model_fields)
    created = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    (account,) = rows.validate(
        [
            {
                "account_type": "saving",
                "currency": "EUR",
                "iban": "NL91ABNA0417164300",
                "balance": Decimal("12.50"),
                "created_at": created,
            }
        ]
    )
    assert isinstance(account, AccountPublic)
    assert account.account_type is AccountType.saving
    assert account.model_dump(mode="json")["balance"] == "12.50"


def test_a_field_without_a_column_is_refused_when_the_read_is_declared() -> None:
    class Shown(SQLModel):
        currency: str
        nickname: str = Field(description="no such column")

    with pytest.raises(TypeError, match=r"Shown\.nickname: no column to read it from"):
        PublicRows(Shown, Account)
