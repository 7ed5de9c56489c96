"""Accounts at this bank: opening them, with a real IBAN, and the customer's overview."""

from __future__ import annotations

import secrets
import uuid

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from sqlalchemy import bindparam, exists
from sqlmodel import Session, col, select

from app.core.config import Settings
from app.core.db import write_transaction
from app.errors import (
    AccountNotFound,
    AccountTypeExists,
    InvalidIban,
    MalformedIban,
    UnsupportedCurrency,
)
from app.models.account import ACCOUNT_ROWS, Account, AccountDetail, AccountsOverview, AccountType
from app.models.customer import Customer
from app.models.institution import Institution
from app.models.user import Role, User
from app.services import card_payments, clock, institutions, reference


def generate_iban(*, session: Session, settings: Settings) -> str:
    """A valid IBAN under the bank's own bank code that no account has yet."""
    while True:
        account_code = f"{secrets.randbelow(10**10):010d}"
        iban = str(
            IBAN.generate(
                settings.bank_country, bank_code=settings.bank_code, account_code=account_code
            )
        )
        if not session.exec(select(exists().where(col(Account.iban) == iban))).one():
            return iban


def add_account(
    *,
    session: Session,
    settings: Settings,
    customer_id: uuid.UUID,
    account_type: AccountType,
    currency: str,
) -> Account:
    """Add an account at this bank inside the caller's unit of work (which commits)."""
    code = currency.upper()
    if not reference.is_currency_supported(session=session, code=code):
        raise UnsupportedCurrency(f"Currency {code} is not supported")
    bank_id = institutions.get_own_bank(session=session).id
    assert bank_id is not None
    taken = session.exec(
        select(
            exists().where(
                col(Account.customer_id) == customer_id,
                col(Account.institution_id) == bank_id,
                col(Account.account_type) == account_type,
            )
        )
    ).one()
    if taken:
        raise AccountTypeExists(f"Customer already has a {account_type.value} account")
    account = Account(
        customer_id=customer_id,
        institution_id=bank_id,
        account_type=account_type,
        currency=code,
        iban=generate_iban(session=session, settings=settings),
        created_at=clock.now(session),
    )
    session.add(account)
    session.flush()
    return account


def open_account(
    *,
    session: Session,
    settings: Settings,
    customer_id: uuid.UUID,
    account_type: AccountType,
    currency: str,
) -> Account:
    with write_transaction(session):
        return add_account(
            session=session,
            settings=settings,
            customer_id=customer_id,
            account_type=account_type,
            currency=currency,
        )


# Built once (a read this frequent costs more to build than to run).
_OWN_BANK_ACCOUNTS = (
    ACCOUNT_ROWS.select()
    .join(Institution, col(Institution.id) == col(Account.institution_id))
    .where(col(Account.customer_id) == bindparam("customer_id"), col(Institution.is_own_bank))
    .order_by(col(Account.created_at), col(Account.id))
)


def overview(*, session: Session, customer_id: uuid.UUID) -> AccountsOverview:
    """The customer's accounts at this bank, oldest first, in one statement, with the card
    payments held on them."""
    rows = ACCOUNT_ROWS.read(session, _OWN_BANK_ACCOUNTS, customer_id=customer_id)
    # Card payments are read only when one is held (a second statement, rarely).
    held = any(row.available_balance != row.balance for row in rows)
    return AccountsOverview(
        message=f"{len(rows)} account(s) found" if rows else "No accounts yet",
        accounts=rows,
        pending=card_payments.pending_of_customer(session=session, customer_id=customer_id)
        if held
        else [],
    )


def normalise_iban(value: str, *, in_path: bool = False) -> str:
    """The compact form (no spaces, upper case) of a valid IBAN.

    An invalid one is 422 in a request body and 400 in a path, where it is an identifier.
    """
    try:
        return IBAN(value).compact
    except SchwiftyException as exc:
        error = MalformedIban if in_path else InvalidIban
        raise error(f"Invalid IBAN: {exc}") from exc


def get_readable(*, session: Session, user: User, iban: str) -> Account:
    """The account with this IBAN if the caller may read it: its owner, an analyst or an admin.

    Anyone else gets the same 404 as for an IBAN no account has.
    """
    account = get_by_iban(session=session, iban=iban)
    if user.role == Role.customer and account.customer_id != user.customer_id:
        raise AccountNotFound(f"Account {account.iban} not found")
    return account


_BY_IBAN = select(Account).where(col(Account.iban) == bindparam("iban"))


def get_by_iban(*, session: Session, iban: str) -> Account:
    """The account with this IBAN (spaces and case ignored), for callers who may read any:
    400 for a malformed IBAN, 404 when no account has it."""
    compact = normalise_iban(iban, in_path=True)
    account = session.exec(_BY_IBAN, params={"iban": compact}).first()
    if account is None:
        raise AccountNotFound(f"Account {compact} not found")
    return account


def detail(*, session: Session, account: Account) -> AccountDetail:
    customer = session.get(Customer, account.customer_id)
    assert customer is not None  # the foreign key guarantees it
    return AccountDetail.model_validate(
        account, update={"customer_oid": customer.id, "holder_name": customer.name}
    )
