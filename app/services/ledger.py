"""The double-entry ledger: journal entries, their postings and the balances they move.

Every movement of money is one `JournalEntry` with two or more `Posting`s that sum to zero per
currency. Each posting moves the materialised balance of one ledger account (a customer
`Account` at this bank or the bank's `FundingAccount` for the currency) and records the balance
after it, so an account's balance always equals the sum of its postings. Customer balances never
go below zero: checked here first, and by CHECK constraints in the database.

Everything here runs inside the caller's unit of work (see `app.core.db`); nothing commits.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, Update, bindparam, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from app.core.db import insert_rows, table_of
from app.core.money import CENT, to_money
from app.errors import InsufficientFunds
from app.models.account import Account
from app.models.customer import Customer
from app.models.funding_account import FundingAccount
from app.models.journal_entry import EntryKind, JournalEntry
from app.models.portfolio_transaction import PortfolioTransaction, TransactionType
from app.models.posting import Posting
from app.services import clock, institutions

ZERO = Decimal("0.00")


class LedgerInvariantError(RuntimeError):
    """A journal entry that breaks a ledger rule: a bug in the caller, never a user error."""


@dataclass(frozen=True)
class LockedAccount:
    """A customer account at this bank, locked for the unit of work, with its holder's name."""

    account: Account
    holder_name: str

    @property
    def iban(self) -> str:
        assert self.account.iban is not None  # accounts at this bank always have one
        return self.account.iban


@dataclass(frozen=True)
class Leg:
    """One side of a journal entry: a signed amount on exactly one ledger account."""

    amount: Decimal
    account: Account | None = None
    funding: FundingAccount | None = None
    counterparty_iban: str | None = None
    counterparty_name: str | None = None

    @property
    def holder(self) -> Account | FundingAccount:
        holder = self.account if self.account is not None else self.funding
        if holder is None or (self.account is not None and self.funding is not None):
            raise LedgerInvariantError("a leg needs exactly one ledger account")
        return holder


def lock_accounts(*, session: Session, ibans: Collection[str]) -> dict[str, LockedAccount]:
    """This bank's accounts with these (compact) IBANs, by IBAN, locked for the unit of work.

    On PostgreSQL the rows are locked (`SELECT ... FOR UPDATE`) in id order, the one order every
    unit of work uses, so two transfers between the same accounts cannot deadlock. On SQLite the
    unit of work already holds the database's write lock. Rows already in the session are
    refreshed, so the balances read are the committed ones.
    """
    bank = institutions.get_own_bank(session=session)
    statement = (
        select(Account, Customer.name)
        .join(Customer, col(Customer.id) == col(Account.customer_id))
        .where(col(Account.iban).in_(list(ibans)), col(Account.institution_id) == bank.id)
        .order_by(col(Account.id))
        .with_for_update(of=Account)
        .execution_options(populate_existing=True)
    )
    rows = session.exec(statement).all()
    return {account.iban: LockedAccount(account, name) for account, name in rows if account.iban}


def funding_account(
    *, session: Session, currency: str, now: datetime | None = None
) -> FundingAccount:
    """The bank's funding account for `currency`, created on first use, locked like accounts."""
    statement = (
        select(FundingAccount)
        .where(col(FundingAccount.currency) == currency)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    found = session.exec(statement).first()
    if found is not None:
        return found
    bank = institutions.get_own_bank(session=session)
    try:
        # A savepoint: when another unit of work creates it at the same moment (PostgreSQL),
        # only this insert is undone and the row it committed is read below.
        with session.begin_nested():
            session.add(
                FundingAccount(
                    currency=currency,
                    name=f"{bank.name} sandbox funding",
                    created_at=now or clock.now(session),
                )
            )
    except IntegrityError:
        pass
    return session.exec(statement).one()


def check_balanced(legs: Sequence[Leg]) -> None:
    """Two or more non-zero legs in whole cents, summing to zero per currency."""
    if len(legs) < 2:
        raise LedgerInvariantError("a journal entry needs at least two postings")
    totals: dict[str, Decimal] = {}
    for leg in legs:
        amount = leg.amount
        if not amount or amount != amount.quantize(CENT):
            raise LedgerInvariantError(f"posting amount {amount} is zero or not whole cents")
        currency = leg.holder.currency
        totals[currency] = totals.get(currency, ZERO) + amount
    unbalanced = {currency: total for currency, total in totals.items() if total}
    if unbalanced:
        raise LedgerInvariantError(f"journal entry does not balance: {unbalanced}")


@dataclass(frozen=True)
class Entry:
    """A movement of money to record: its kind, description and legs (debits first), at a
    moment (now when not given)."""

    kind: EntryKind
    description: str
    legs: Sequence[Leg]
    at: datetime | None = None
    # The category its customer postings count in (a card payment's spending category); the
    # entry's kind when not given.
    category: str | None = None
    # How the portfolio's history shows its customer postings, when not as the kind says (an
    # income that is a salary).
    transaction_type: TransactionType | None = None
    # Whether its customer postings appear in the portfolio's history (a sample customer's
    # opening balance does not: its documented history is its portfolio's).
    mirrored: bool = True


def record_entry(
    *,
    session: Session,
    kind: EntryKind,
    description: str,
    legs: Sequence[Leg],
    now: datetime | None = None,
    category: str | None = None,
) -> Recorded:
    """Record one movement of money: `record_entries` with one entry."""
    entry = Entry(kind=kind, description=description, legs=legs, at=now, category=category)
    [recorded] = record_entries(session=session, entries=[entry])
    return recorded


@dataclass(frozen=True, slots=True)
class Recorded:
    """A journal entry as written."""

    id: int
    kind: EntryKind
    description: str
    created_at: datetime


def record_entries(*, session: Session, entries: Sequence[Entry]) -> list[Recorded]:
    """Record movements of money, in order: the journal entries, their postings, the new
    balances and each customer posting's portfolio transaction, in a fixed number of
    statements however many entries there are.

    This is the one door every transfer, deposit and withdrawal goes through. Every rule is
    checked before anything is written: each entry balances, and no leg takes a customer
    balance below what its card payments hold (below zero when none: `InsufficientFunds`),
    counting the entries before it. The legs' ledger
    accounts must be locked for the unit of work (`lock_accounts`, `funding_account`); their
    `balance` is updated in place. Nothing commits: a failure while writing leaves the caller's
    unit of work to roll back whatever had been written.
    """
    planned, recorded = _write(session, entries)
    _mirror_into_portfolios(session, planned)
    return recorded


def _write(session: Session, entries: Sequence[Entry]) -> tuple[list[_Planned], list[Recorded]]:
    """Check, then write the entries, their postings and the new balances."""
    if not entries:
        return [], []
    planned, balances = _plan(entries, clock.now(session))
    entry_ids = _insert_entries(session, planned)
    _insert_postings(session, planned, entry_ids)
    _move_balances(session, balances)
    recorded = [
        Recorded(entry_id, entry.kind, entry.description, at)
        for (entry, at, _), entry_id in zip(planned, entry_ids, strict=True)
    ]
    return planned, recorded


_Holder = Account | FundingAccount
# An entry to write, at its moment, with each leg's ledger account and balance after the leg.
_Planned = tuple[Entry, datetime, list[tuple[Leg, _Holder, Decimal]]]
# Each ledger account touched, by (model, id): the account and its balance after all entries.
_Balances = dict[tuple[type, int], tuple[_Holder, Decimal]]


def _plan(entries: Sequence[Entry], moment: datetime) -> tuple[list[_Planned], _Balances]:
    """Check every rule, walking the legs in order: each entry balances, and no leg takes a
    customer balance below what is held on it (so a debit spends the available balance).
    Raises before anything is written."""
    planned: list[_Planned] = []
    balances: _Balances = {}
    for entry in entries:
        check_balanced(entry.legs)
        steps = []
        for leg in entry.legs:
            holder = leg.holder
            assert holder.id is not None
            key = (type(holder), holder.id)
            before = balances[key][1] if key in balances else holder.balance
            after = before + leg.amount
            if leg.account is not None and after < leg.account.held:
                raise _insufficient(leg.account, before, -leg.amount)
            balances[key] = (holder, after)
            steps.append((leg, holder, after))
        planned.append((entry, entry.at or moment, steps))
    return planned, balances


def _insufficient(account: Account, balance: Decimal, needed: Decimal) -> InsufficientFunds:
    currency = account.currency
    if not account.held:
        return InsufficientFunds(
            f"Insufficient funds in account {account.iban}: balance {to_money(balance)} "
            f"{currency}, needed {to_money(needed)} {currency}"
        )
    return InsufficientFunds(
        f"Insufficient funds in account {account.iban}: available "
        f"{to_money(balance - account.held)} {currency} (balance {to_money(balance)}, card "
        f"payments held {to_money(account.held)}), needed {to_money(needed)} {currency}"
    )


_ENTRIES = table_of(JournalEntry)
_POSTINGS = table_of(Posting)
_TRANSACTIONS = table_of(PortfolioTransaction)


def _balance_update(table: Table) -> Update:
    return (
        update(table)
        .where(table.c.id == bindparam("holder_id"))
        .values(balance=bindparam("new_balance"))
    )


_BALANCE: dict[type, Update] = {
    Account: _balance_update(table_of(Account)),
    FundingAccount: _balance_update(table_of(FundingAccount)),
}


def _insert_entries(session: Session, planned: list[_Planned]) -> list[int]:
    rows = [
        {"kind": entry.kind.value, "description": entry.description, "created_at": at}
        for entry, at, _ in planned
    ]
    return insert_rows(session, _ENTRIES, rows, numbered=True)


def _insert_postings(session: Session, planned: list[_Planned], entry_ids: list[int]) -> None:
    rows: list[dict[str, Any]] = [
        {
            "journal_entry_id": entry_id,
            "account_id": leg.account.id if leg.account is not None else None,
            "funding_account_id": leg.funding.id if leg.funding is not None else None,
            "amount": leg.amount,
            "currency": holder.currency,
            "balance_after": after,
            "counterparty_iban": leg.counterparty_iban,
            "counterparty_name": leg.counterparty_name,
            "created_at": at,
        }
        for (_, at, steps), entry_id in zip(planned, entry_ids, strict=True)
        for leg, holder, after in steps
    ]
    insert_rows(session, _POSTINGS, rows)


def _move_balances(session: Session, balances: _Balances) -> None:
    """Write each ledger account's new balance, and give the loaded account that balance as
    its committed state (the session has nothing left to flush for it)."""
    by_table: dict[type, list[dict[str, object]]] = defaultdict(list)
    for (table_model, holder_id), (_, balance) in balances.items():
        by_table[table_model].append({"holder_id": holder_id, "new_balance": balance})
    for table_model, rows in by_table.items():
        session.execute(_BALANCE[table_model], rows)
    for holder, balance in balances.values():
        set_committed_value(holder, "balance", balance)


def funding_legs(
    locked: LockedAccount, fund: FundingAccount, amount: Decimal, *, outside: str
) -> list[Leg]:
    """The two legs of money between a locked customer account and the bank's funding account
    (the world outside the bank): `amount` into the account when positive, out of it when
    negative, `outside` the account's counterparty. The debit comes first, so a payment beyond
    the balance fails before anything else is written."""
    own = Leg(amount, account=locked.account, counterparty_name=outside)
    world = Leg(
        -amount, funding=fund, counterparty_iban=locked.iban, counterparty_name=locked.holder_name
    )
    return [world, own] if amount > 0 else [own, world]


def funding_entry(
    *,
    session: Session,
    kind: EntryKind,
    locked: LockedAccount,
    amount: Decimal,
    description: str,
) -> Recorded:
    """A deposit into, or a withdrawal from, a locked customer account, against the bank's
    funding account for its currency."""
    fund = funding_account(session=session, currency=locked.account.currency)
    signed = amount if kind == EntryKind.deposit else -amount
    legs = funding_legs(locked, fund, signed, outside=fund.name)
    return record_entry(session=session, kind=kind, description=description, legs=legs)


def return_balances_to_funding(*, session: Session, customer_id: uuid.UUID) -> int:
    """Before a customer is deleted: withdraw what each of its accounts at this bank holds back
    to the funding account, so the money in the sandbox stays equal to minus the funding
    balances once its accounts (and their postings) are gone. Returns the entries written."""
    bank = institutions.get_own_bank(session=session)
    ibans = session.exec(
        select(col(Account.iban)).where(
            col(Account.customer_id) == customer_id, col(Account.institution_id) == bank.id
        )
    ).all()
    written = 0
    for locked in lock_accounts(session=session, ibans=[i for i in ibans if i]).values():
        if locked.account.balance > 0:
            funding_entry(
                session=session,
                kind=EntryKind.withdrawal,
                locked=locked,
                amount=locked.account.balance,
                description="Account closed: customer deleted",
            )
            written += 1
    return written


_PORTFOLIO_TYPE = {
    EntryKind.transfer: TransactionType.transfer,
    EntryKind.deposit: TransactionType.deposit,
    EntryKind.withdrawal: TransactionType.withdrawal,
    EntryKind.interest: TransactionType.interest,
    EntryKind.card_payment: TransactionType.card,
    EntryKind.income: TransactionType.deposit,
    EntryKind.payment: TransactionType.payment,
}


def _mirror_into_portfolios(session: Session, planned: list[_Planned]) -> None:
    """Each posting on a customer account also appears in that customer's portfolio
    transactions (signed like the posting: positive is money in), in the same unit of work."""
    rows = [
        {
            "customer_id": leg.account.customer_id,
            "account_id": leg.account.id,
            "occurred_at": at,
            "transaction_type": entry.transaction_type or _PORTFOLIO_TYPE[entry.kind],
            "amount": leg.amount,
            "currency": leg.account.currency,
            "category": entry.category or entry.kind.value,
            "counterparty": leg.counterparty_name,
            "description": entry.description,
        }
        for entry, at, steps in planned
        if entry.mirrored
        for leg, _, _ in steps
        if leg.account is not None
    ]
    if rows:
        insert_rows(session, _TRANSACTIONS, rows)
