"""The rows seeding writes, typed: the keys and values of each table's batch insert, so that a
misspelt column or a value of the wrong kind is a type error, not a row the database refuses
(or, worse, a column left at its default)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import NotRequired, TypedDict

from app.models.account import AccountType
from app.models.asset import AssetType
from app.models.derivative_transaction import DerivativeSide, DerivativeStatus, DerivativeType
from app.models.persona import PersonaKind
from app.models.portfolio_transaction import TransactionType
from app.models.user import Role


class CustomerRow(TypedDict):
    id: uuid.UUID
    name: str
    created_at: datetime
    # A generated customer's identity (the sample customers have a name only).
    date_of_birth: NotRequired[date]
    address: NotRequired[str]
    country: NotRequired[str]
    id_document: NotRequired[str]


class LoginRow(TypedDict):
    uid: uuid.UUID
    username: str
    password_hash: str
    role: Role
    customer_id: uuid.UUID
    created_at: datetime


class AccountRow(TypedDict):
    customer_id: uuid.UUID
    institution_id: int
    account_type: AccountType
    currency: str
    iban: str | None  # accounts at this bank
    account_number: str | None  # accounts elsewhere, aggregated
    balance: Decimal
    created_at: datetime


class TransactionRow(TypedDict):
    customer_id: uuid.UUID
    account_id: int | None
    occurred_at: datetime
    transaction_type: TransactionType
    amount: Decimal
    currency: str
    category: str | None
    asset_symbol: str | None
    quantity: Decimal | None
    counterparty: str | None
    description: str | None


class AssetRow(TypedDict):
    customer_id: uuid.UUID
    asset_type: AssetType
    symbol: str
    name: str
    quantity: Decimal
    current_value: Decimal
    currency: str
    valued_at: datetime


class DerivativeRow(TypedDict):
    customer_id: uuid.UUID
    derivative_type: DerivativeType
    side: DerivativeSide
    asset_symbol: str
    quantity: Decimal
    strike_price: Decimal | None
    premium: Decimal | None
    currency: str
    execution_date: date
    expiration_date: date
    strategy: str
    status: DerivativeStatus
    counterparty: str


class SpendingRow(TypedDict):
    customer_id: uuid.UUID
    month: str
    category: str
    currency: str
    amount: Decimal


class PersonaRow(TypedDict):
    customer_id: uuid.UUID
    kind: PersonaKind
    account_id: int
    seed: int
    started_on: date
    next_on: date
    created_at: datetime
