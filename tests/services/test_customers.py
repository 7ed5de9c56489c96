import asyncio
import uuid
from datetime import date

import pytest
from sqlmodel import Session, select

from app.core.config import Settings
from app.errors import CountryNotAllowed, CustomerNotFound, UsernameTaken, ValidationFailed
from app.models.customer import Customer, CustomerRegister
from app.models.user import User
from app.services import customers
from app.services.customers import Registration, check_date_of_birth
from tests.utils.auth import registration_body

TODAY = date(2026, 3, 15)


@pytest.mark.parametrize(
    "born",
    [
        date(2008, 3, 15),  # eighteen today
        date(2008, 3, 14),
        date(1990, 5, 17),
        date(1900, 1, 1),  # the earliest allowed
    ],
)
def test_dates_of_birth_that_pass(born: date) -> None:
    check_date_of_birth(born, today=TODAY)


@pytest.mark.parametrize(
    ("born", "message"),
    [
        (date(2008, 3, 16), "Customer must be at least 18 years old"),  # eighteen tomorrow
        (date(2008, 12, 31), "Customer must be at least 18 years old"),
        (TODAY, "Customer must be at least 18 years old"),
        (date(2026, 3, 16), "Date of birth cannot be in the future"),
        (date(1899, 12, 31), "Date of birth cannot be before 1900"),
        (date(1, 1, 1), "Date of birth cannot be before 1900"),
    ],
)
def test_dates_of_birth_that_fail(born: date, message: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        check_date_of_birth(born, today=TODAY)
    assert raised.value.message == message
    assert raised.value.status_code == 422


@pytest.mark.parametrize(
    ("born", "today", "adult"),
    [
        (date(2008, 2, 29), date(2026, 2, 28), False),
        (date(2008, 2, 29), date(2026, 3, 1), True),  # no 29 February in 2026
        (date(2012, 2, 29), date(2030, 2, 28), False),
        (date(2010, 2, 28), date(2028, 2, 28), True),
    ],
)
def test_leap_day_birthdays(born: date, today: date, adult: bool) -> None:
    if adult:
        check_date_of_birth(born, today=today)
    else:
        with pytest.raises(ValidationFailed, match="at least 18"):
            check_date_of_birth(born, today=today)


def registration(username: str, **overrides: object) -> CustomerRegister:
    return CustomerRegister(**registration_body(username, **overrides))


def register(session: Session, settings: Settings, data: CustomerRegister) -> Registration:
    return asyncio.run(customers.register(session=session, settings=settings, data=data))


def test_register_creates_customer_login_and_account(session: Session, settings: Settings) -> None:
    result = register(session, settings, registration("svc.user", password=None))
    assert result.user.username == "svc.user"
    assert result.user.customer_id == result.customer.id
    assert result.account.customer_id == result.customer.id
    assert result.account.currency == "EUR"
    assert result.password is not None
    assert len(result.password) == 16
    assert result.user.password_hash != result.password
    assert customers.get(session=session, customer_id=result.customer.id) == result.customer


def test_register_refuses_a_country_not_allowed(session: Session, settings: Settings) -> None:
    with pytest.raises(CountryNotAllowed):
        register(session, settings, registration("pierre", country="FR"))
    assert session.exec(select(Customer)).all() == []


def test_register_is_all_or_nothing(session: Session, settings: Settings) -> None:
    chosen = register(session, settings, registration("twin"))
    assert chosen.password is None  # a password the customer chose is never handed back
    with pytest.raises(UsernameTaken):
        register(session, settings, registration("TWIN"))
    session.rollback()
    names = session.exec(select(Customer.name)).all()
    users = session.exec(select(User.username)).all()
    assert (names, users) == (["Alice Example"], ["twin"])


def test_get_unknown_customer_is_404(session: Session) -> None:
    with pytest.raises(CustomerNotFound) as raised:
        customers.get(session=session, customer_id=uuid.uuid4())
    assert raised.value.status_code == 404
    assert raised.value.message == "Customer not found"
