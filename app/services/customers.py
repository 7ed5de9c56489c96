"""Customers: KYC registration (customer, login and first account in one unit of work), and the
customer directory of the portfolio-analysis API (list, create by name, exists, delete with
everything owned)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import delete as sql_delete
from sqlmodel import Session, col, func, select

from app import errors
from app.core.clock import utcnow
from app.core.config import Settings
from app.core.db import write_transaction
from app.core.identifiers import CANONICAL_UUID
from app.core.security import generate_password, hash_password, run_password_work
from app.errors import (
    CountryNotAllowed,
    CustomerNotFound,
    InvalidCustomerOid,
    ValidationFailed,
)
from app.models.account import Account, AccountType
from app.models.customer import Customer, CustomerExists, CustomerRegister
from app.models.user import Role, User
from app.services import accounts, card_payments, clock, ledger, reference, throttle, users

MINIMUM_AGE = 18
EARLIEST_BIRTH_YEAR = 1900
FIRST_ACCOUNT_CURRENCY = "EUR"


@dataclass(frozen=True)
class Registration:
    customer: Customer
    user: User
    account: Account
    # The generated password (shown once); None when the customer chose their own.
    password: str | None


def _age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def check_date_of_birth(born: date, today: date) -> None:
    """18 or older on `today` (the sandbox's date), born no earlier than the earliest year."""
    if born > today:
        raise ValidationFailed("Date of birth cannot be in the future")
    if born.year < EARLIEST_BIRTH_YEAR:
        raise ValidationFailed(f"Date of birth cannot be before {EARLIEST_BIRTH_YEAR}")
    if _age_on(born, today) < MINIMUM_AGE:
        raise ValidationFailed(f"Customer must be at least {MINIMUM_AGE} years old")


async def register(
    *, session: Session, settings: Settings, data: CustomerRegister, address: str | None = None
) -> Registration:
    """Customer, login and first account in one unit of work. The registration is counted
    against the client address first (429 over its hourly limit), and the password is hashed
    on the bounded hashing threads (503 when none is free in time)."""
    # Well-formed (two letters) by the model; any code off the allowed list, known to ISO or
    # not ("XX"), is refused with 403 below, as the retail API's clients expect.
    country = data.country.upper()

    def check_and_count() -> None:
        check_date_of_birth(data.dob, clock.now(session).date())
        throttle.begin_registration(
            session=session, settings=settings, address=address, now=utcnow()
        )

    await run_in_threadpool(check_and_count)
    generated = None if data.password else generate_password()
    password = data.password or generated
    assert password is not None
    # Hash before the write lock is taken: bcrypt is the slow part.
    password_hash = await run_password_work(
        settings, hash_password, password, settings.bcrypt_rounds
    )
    registration = await run_in_threadpool(
        _add_registration, session, settings, data, country, password_hash
    )
    return replace(registration, password=generated)


def _add_registration(
    session: Session, settings: Settings, data: CustomerRegister, country: str, password_hash: str
) -> Registration:
    with write_transaction(session):
        if not reference.is_country_allowed(session=session, iso_code=country):
            raise CountryNotAllowed()
        customer = Customer(
            created_at=clock.now(session),
            name=data.name,
            date_of_birth=data.dob,
            address=data.address,
            country=country,
            id_document=data.id_document,
        )
        session.add(customer)
        session.flush()
        user = users.add_user(
            session=session,
            username=data.username,
            password_hash=password_hash,
            role=Role.customer,
            customer_id=customer.id,
        )
        account = accounts.add_account(
            session=session,
            settings=settings,
            customer_id=customer.id,
            account_type=AccountType.checking,
            currency=FIRST_ACCOUNT_CURRENCY,
        )
    return Registration(customer=customer, user=user, account=account, password=None)


def get(*, session: Session, customer_id: uuid.UUID) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise CustomerNotFound()
    return customer


def parse_customer_oid(value: str) -> uuid.UUID:
    """A CustomerOID in the canonical 8-4-4-4-12 form (any case); 400 for anything else.

    Checked against the form itself: `uuid.UUID` also takes braces, a "urn:uuid:" prefix and
    digits of other scripts (Arabic-Indic ones, say).
    """
    text = value.strip()
    if not CANONICAL_UUID.fullmatch(text):
        raise InvalidCustomerOid()
    return uuid.UUID(text)


@dataclass(frozen=True)
class CustomerPage:
    items: Sequence[Customer]
    total: int


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_customers(
    *, session: Session, limit: int, offset: int, name: str | None = None
) -> CustomerPage:
    """Customers by name (ignoring case), a page at a time, with the number that match."""
    conditions = []
    if name:
        pattern = f"%{_escape_like(name.strip())}%"
        conditions.append(col(Customer.name).ilike(pattern, escape="\\"))
    total = session.exec(select(func.count()).select_from(Customer).where(*conditions)).one()
    statement = (
        select(Customer)
        .where(*conditions)
        .order_by(func.lower(col(Customer.name)), col(Customer.id))
        .limit(limit)
        .offset(offset)
    )
    return CustomerPage(items=session.exec(statement).all(), total=total)


def find(*, session: Session, customer_id: uuid.UUID) -> Customer | None:
    return session.get(Customer, customer_id)


def check_exists(*, session: Session, customer_id: uuid.UUID) -> CustomerExists:
    """Whether the CustomerOID exists, and its name: an answer either way, never a 404."""
    customer = find(session=session, customer_id=customer_id)
    return CustomerExists(
        customer_oid=customer_id,
        exists=customer is not None,
        name=customer.name if customer else None,
    )


def create(*, session: Session, name: str, customer_oid: str | None = None) -> Customer:
    """A customer with a name only (no login, no KYC), as `POST /register-customer` makes."""
    # Absent (null) means "generate one"; any string given, even an empty one, must be a UUID.
    customer_id = uuid.uuid4() if customer_oid is None else parse_customer_oid(customer_oid)
    with write_transaction(session):
        if session.get(Customer, customer_id) is not None:
            raise errors.CustomerExists(f"Customer with CustomerOID '{customer_id}' already exists")
        customer = Customer(id=customer_id, name=name, created_at=clock.now(session))
        session.add(customer)
    return customer


def delete(*, session: Session, customer_id: uuid.UUID) -> None:
    """Delete the customer and, through the ON DELETE CASCADE foreign keys, everything it owns:
    accounts, holdings, transactions, spending, derivatives, logins and their tokens."""
    with write_transaction(session):
        card_payments.release_all(session=session, customer_id=customer_id)
        ledger.return_balances_to_funding(session=session, customer_id=customer_id)
        result = session.exec(sql_delete(Customer).where(col(Customer.id) == customer_id))
        if result.rowcount == 0:
            raise CustomerNotFound.for_oid(customer_id)
