"""Customers: KYC registration (customer, login and first account in one unit of work)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from app.core.clock import utcnow
from app.core.config import Settings
from app.core.db import write_transaction
from app.core.security import generate_password, hash_password
from app.errors import CountryNotAllowed, CustomerNotFound, ValidationFailed
from app.models.account import Account, AccountType
from app.models.customer import Customer, CustomerRegister
from app.models.user import Role, User
from app.services import accounts, reference, users

MINIMUM_AGE = 18
EARLIEST_BIRTH_YEAR = 1900
FIRST_ACCOUNT_CURRENCY = "EUR"


@dataclass(frozen=True)
class Registration:
    customer: Customer
    user: User
    account: Account
    password: str


def _age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def check_date_of_birth(born: date, today: date | None = None) -> None:
    today = today or utcnow().date()
    if born > today:
        raise ValidationFailed("Date of birth cannot be in the future")
    if born.year < EARLIEST_BIRTH_YEAR:
        raise ValidationFailed(f"Date of birth cannot be before {EARLIEST_BIRTH_YEAR}")
    if _age_on(born, today) < MINIMUM_AGE:
        raise ValidationFailed(f"Customer must be at least {MINIMUM_AGE} years old")


def register(*, session: Session, settings: Settings, data: CustomerRegister) -> Registration:
    check_date_of_birth(data.dob)
    country, _ = reference.iso_country(data.country)
    password = data.password or generate_password()
    # Hash before the write lock is taken: bcrypt is the slow part.
    password_hash = hash_password(password, settings.bcrypt_rounds)
    with write_transaction(session):
        if not reference.is_country_allowed(session=session, iso_code=country):
            raise CountryNotAllowed()
        customer = Customer(
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
    return Registration(customer=customer, user=user, account=account, password=password)


def get(*, session: Session, customer_id: uuid.UUID) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise CustomerNotFound()
    return customer
