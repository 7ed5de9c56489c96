"""Reference data: the countries customers may register from and the currencies accounts use."""

from __future__ import annotations

from collections.abc import Sequence

import pycountry
from sqlalchemy import exists
from sqlmodel import Session, col, select

from app.core.db import write_transaction
from app.errors import Conflict, NotFound, ValidationFailed
from app.models.account import Account
from app.models.country import AllowedCountry
from app.models.currency import Currency


def iso_country(code: str) -> tuple[str, str]:
    """`(alpha_2, name)` for an ISO 3166-1 alpha-2 code in any case; 422 when there is none."""
    normalised = code.strip().upper()
    country = pycountry.countries.get(alpha_2=normalised) if len(normalised) == 2 else None
    if country is None:
        raise ValidationFailed(f"'{code}' is not an ISO 3166-1 alpha-2 country code")
    return country.alpha_2, country.name


def iso_currency(code: str) -> tuple[str, str]:
    """`(code, name)` for an ISO 4217 alphabetic code in any case; 422 when there is none."""
    normalised = code.strip().upper()
    currency = pycountry.currencies.get(alpha_3=normalised) if len(normalised) == 3 else None
    if currency is None:
        raise ValidationFailed(f"'{code}' is not an ISO 4217 currency code")
    return currency.alpha_3, currency.name


def list_countries(*, session: Session) -> Sequence[AllowedCountry]:
    return session.exec(select(AllowedCountry).order_by(AllowedCountry.iso_code)).all()


def list_currencies(*, session: Session) -> Sequence[Currency]:
    return session.exec(select(Currency).order_by(Currency.code)).all()


def is_country_allowed(*, session: Session, iso_code: str) -> bool:
    return session.get(AllowedCountry, iso_code.upper()) is not None


def is_currency_supported(*, session: Session, code: str) -> bool:
    return session.get(Currency, code.upper()) is not None


def add_country(*, session: Session, iso_code: str) -> AllowedCountry:
    code, name = iso_country(iso_code)
    with write_transaction(session):
        if session.get(AllowedCountry, code) is not None:
            raise Conflict(f"Country {code} is already allowed")
        country = AllowedCountry(iso_code=code, name=name)
        session.add(country)
    return country


def _may_be_code(text: str, length: int) -> bool:
    """Whether `text` has the shape of a stored code (ISO letters). Anything else is not in the
    table, and is not sent to the database: PostgreSQL refuses text with a NUL byte in it."""
    return len(text) == length and text.isascii() and text.isalpha()


def delete_country(*, session: Session, iso_code: str) -> None:
    code = iso_code.strip().upper()
    with write_transaction(session):
        country = session.get(AllowedCountry, code) if _may_be_code(code, 2) else None
        if country is None:
            raise NotFound(f"Country {code} is not in the allowed list")
        session.delete(country)


def add_currency(*, session: Session, code: str) -> Currency:
    alpha_3, name = iso_currency(code)
    with write_transaction(session):
        if session.get(Currency, alpha_3) is not None:
            raise Conflict(f"Currency {alpha_3} is already supported")
        currency = Currency(code=alpha_3, name=name)
        session.add(currency)
    return currency


def delete_currency(*, session: Session, code: str) -> None:
    alpha_3 = code.strip().upper()
    with write_transaction(session):
        currency = session.get(Currency, alpha_3) if _may_be_code(alpha_3, 3) else None
        if currency is None:
            raise NotFound(f"Currency {alpha_3} is not supported")
        in_use = session.exec(select(exists().where(col(Account.currency) == alpha_3))).one()
        if in_use:
            raise Conflict(f"Currency {alpha_3} is used by accounts and cannot be removed")
        session.delete(currency)


def ensure_defaults(*, session: Session, countries: list[str], currencies: list[str]) -> None:
    """Insert the default reference data when its table is empty (first start)."""
    with write_transaction(session):
        if session.exec(select(AllowedCountry).limit(1)).first() is None:
            for raw in countries:
                code, name = iso_country(raw)
                session.add(AllowedCountry(iso_code=code, name=name))
        if session.exec(select(Currency).limit(1)).first() is None:
            for raw in currencies:
                code, name = iso_currency(raw)
                session.add(Currency(code=code, name=name))
