from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import field_validator
from sqlalchemy import CheckConstraint, UniqueConstraint, text, type_coerce
from sqlmodel import Field, SQLModel, col

from app.core.clock import UTCDateTime, utcnow
from app.core.enums import enum_column
from app.core.identifiers import CURRENCY_SCHEMA
from app.core.money import MoneyOut, money_column
from app.core.rows import PublicRow, PublicRows
from app.models.card_payment import CardPaymentPublic
from app.models.institution import InstitutionPublic


class AccountType(StrEnum):
    checking = "checking"
    saving = "saving"
    investment = "investment"


class AccountBase(SQLModel):
    account_type: AccountType = Field(max_length=20)
    currency: str = Field(min_length=3, max_length=3)


class Account(AccountBase, table=True):
    """An account: opened at this bank (with an IBAN) or held elsewhere and aggregated."""

    __table_args__ = (
        UniqueConstraint(
            "customer_id", "institution_id", "account_type", name="uq_account_customer_type"
        ),
        # An aggregated account at another institution is known by its number there.
        UniqueConstraint("institution_id", "account_number", name="uq_account_institution_number"),
        CheckConstraint("balance >= 0", name="ck_account_balance_non_negative"),
        # Card holds reserve part of the balance: what is held is never more than it.
        CheckConstraint(
            "held >= 0 AND (held = 0 OR held <= balance)", name="ck_account_held_within_balance"
        ),
        CheckConstraint(
            "iban IS NOT NULL OR account_number IS NOT NULL", name="ck_account_identified"
        ),
        CheckConstraint(
            "account_type IN ('checking', 'saving', 'investment')", name="ck_account_type"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_type: AccountType = Field(sa_type=enum_column(AccountType))
    customer_id: uuid.UUID = Field(foreign_key="customer.id", ondelete="CASCADE", index=True)
    institution_id: int = Field(foreign_key="institution.id", index=True)
    iban: str | None = Field(default=None, max_length=34, unique=True)
    account_number: str | None = Field(default=None, max_length=40)
    # Indexed: the foreign key is checked when a currency is removed ("still in use?").
    currency: str = Field(foreign_key="currency.code", max_length=3, index=True)
    balance: Decimal = Field(default=Decimal("0.00"), sa_type=money_column())
    # The sum of the account's card payments still held (see app/services/card_payments.py).
    held: Decimal = Field(
        default=Decimal("0.00"),
        sa_type=money_column(),
        sa_column_kwargs={"server_default": text("0")},
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def available_balance(self) -> Decimal:
        """What can be spent: the booked balance less the card payments held on it."""
        return self.balance - self.held


class AccountOpen(AccountBase):
    account_type: AccountType = Field(schema_extra={"examples": ["saving"]})
    currency: str = Field(
        default="EUR",
        min_length=3,
        max_length=3,
        description="ISO 4217 code of a supported currency (GET /currencies)",
        schema_extra={"examples": ["EUR"], "json_schema_extra": CURRENCY_SCHEMA},
    )

    @field_validator("currency")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()


class AccountPublic(AccountBase, PublicRow):
    iban: str | None
    balance: MoneyOut = Field(description="The booked balance: the sum of the account's postings")
    available_balance: MoneyOut = Field(
        description="What can be spent: the booked balance less the card payments still held"
    )
    created_at: datetime


class BankAccountPublic(AccountBase, PublicRow):
    """An account in the portfolio: ours or aggregated, with its institution."""

    id: int
    customer_oid: uuid.UUID
    account_number: str = Field(description="The IBAN for accounts at this bank")
    iban: str | None
    balance: MoneyOut
    institution: InstitutionPublic

    @classmethod
    def from_row(cls, account: Account, institution: InstitutionPublic) -> BankAccountPublic:
        number = account.account_number or account.iban
        assert account.id is not None
        assert number is not None
        return cls(
            id=account.id,
            customer_oid=account.customer_id,
            account_number=number,
            iban=account.iban,
            account_type=account.account_type,
            balance=account.balance,
            currency=account.currency,
            institution=institution,
        )


class AccountDetail(AccountPublic):
    """One account, for its owner (and analysts and admins)."""

    customer_oid: uuid.UUID
    holder_name: str


class AccountsOverview(SQLModel):
    message: str
    accounts: list[AccountPublic]
    pending: list[CardPaymentPublic] = Field(
        description="Card payments held on these accounts, not booked yet, oldest first"
    )


# An account as its owner sees it, read straight from the table (see app/core/rows.py).
ACCOUNT_ROWS = PublicRows(
    AccountPublic,
    Account,
    available_balance=type_coerce(col(Account.balance) - col(Account.held), money_column()),
)
