import uuid
from types import SimpleNamespace

import pytest
from schwifty import IBAN
from sqlmodel import Session, select

from app.core.config import Settings
from app.errors import AccountTypeExists, UnsupportedCurrency
from app.models.account import Account, AccountType
from app.models.institution import Institution, InstitutionType
from app.services import accounts
from tests.utils.auth import AuthedUser


def test_generated_iban_is_valid_and_under_the_banks_code(
    session: Session, settings: Settings
) -> None:
    ibans = {accounts.generate_iban(session=session, settings=settings) for _ in range(20)}
    assert len(ibans) == 20
    for value in ibans:
        iban = IBAN(value)
        assert (iban.country_code, iban.bank_code) == ("NL", "OPNB")


def test_iban_generation_follows_the_bank_settings(session: Session, settings: Settings) -> None:
    german = settings.model_copy(update={"bank_country": "DE", "bank_code": "37040044"})
    iban = IBAN(accounts.generate_iban(session=session, settings=german))
    assert (iban.country_code, iban.bank_code) == ("DE", "37040044")


def test_iban_generation_skips_numbers_already_taken(
    session: Session, settings: Settings, customer: AuthedUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = IBAN(customer.iban)
    draws = iter([int(taken.account_code), 1234567890])
    monkeypatch.setattr(accounts, "secrets", SimpleNamespace(randbelow=lambda _n: next(draws)))
    iban = accounts.generate_iban(session=session, settings=settings)
    assert iban != customer.iban
    assert IBAN(iban).account_code == "1234567890"


def test_open_account_refuses_an_unsupported_currency(
    session: Session, settings: Settings, customer: AuthedUser
) -> None:
    with pytest.raises(UnsupportedCurrency) as raised:
        accounts.open_account(
            session=session,
            settings=settings,
            customer_id=uuid.UUID(customer.customer_oid),
            account_type=AccountType.saving,
            currency="chf",
        )
    assert raised.value.message == "Currency CHF is not supported"


def test_open_account_refuses_a_second_of_a_type(
    session: Session, settings: Settings, customer: AuthedUser
) -> None:
    with pytest.raises(AccountTypeExists):
        accounts.open_account(
            session=session,
            settings=settings,
            customer_id=uuid.UUID(customer.customer_oid),
            account_type=AccountType.checking,
            currency="USD",
        )
    assert len(session.exec(select(Account)).all()) == 1


def test_overview_lists_only_accounts_at_this_bank(
    session: Session, settings: Settings, customer: AuthedUser
) -> None:
    customer_id = uuid.UUID(customer.customer_oid)
    elsewhere = Institution(name="Other Bank", institution_type=InstitutionType.bank, country="BE")
    session.add(elsewhere)
    session.flush()
    assert elsewhere.id is not None
    session.add(
        Account(
            customer_id=customer_id,
            institution_id=elsewhere.id,
            account_type=AccountType.saving,
            currency="EUR",
            account_number="BE-000-1",
        )
    )
    session.commit()
    own = accounts.overview(session=session, customer_id=customer_id)
    assert [a.iban for a in own.accounts] == [customer.iban]
    assert own.message == "1 account(s) found"
    # The same type at another institution does not block opening one here.
    saving = accounts.open_account(
        session=session,
        settings=settings,
        customer_id=customer_id,
        account_type=AccountType.saving,
        currency="EUR",
    )
    own = accounts.overview(session=session, customer_id=customer_id)
    assert [(a.iban, a.account_type) for a in own.accounts] == [
        (customer.iban, AccountType.checking),
        (saving.iban, AccountType.saving),
    ]
