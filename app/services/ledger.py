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

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.core.clock import utcnow
from app.core.money import to_money
from app.errors import InsufficientFunds
from app.models.account import Account
from app.models.customer import Customer
from app.models.funding_account import FundingAccount
from app.models.journal_entry import EntryKind, JournalEntry
from app.models.portfolio_transaction import PortfolioTransaction, TransactionType
from app.models.posting import Posting
from app.services import institutions

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
                    created_at=now or utcnow(),
                )
            )
    except IntegrityError:
        pass
    return session.exec(statement).one()


def check_balanced(legs: Sequence[Leg]) -> None:
    """Two or more non-zero legs in whole cents, summing to zero per currency."""
    if len(legs) < 2:
        raise LedgerInvariantError("a journal entry needs at least two postings")
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for leg in legs:
        if leg.amount == 0 or to_money(leg.amount) != leg.amount:
            raise LedgerInvariantError(f"posting amount {leg.amount} is zero or not whole cents")
        totals[leg.holder.currency] += leg.amount
    unbalanced = {currency: total for currency, total in totals.items() if total != 0}
    if unbalanced:
        raise LedgerInvariantError(f"journal entry does not balance: {unbalanced}")


def record_entry(
    *,
    session: Session,
    kind: EntryKind,
    description: str,
    legs: Sequence[Leg],
    now: datetime | None = None,
) -> tuple[JournalEntry, list[Posting]]:
    """Record one movement of money: the journal entry, its postings and the new balances.

    This is the one function every transfer, deposit and withdrawal goes through. Put debits
    first: a leg that would take a customer balance below zero raises `InsufficientFunds`, and
    the caller's unit of work then rolls back whatever this entry had written.
    """
    check_balanced(legs)
    entry = JournalEntry(kind=kind, description=description, created_at=now or utcnow())
    session.add(entry)
    session.flush()
    postings = [_apply_posting(session, entry, leg) for leg in legs]
    _mirror_into_portfolios(session, entry, legs)
    return entry, postings


def funding_entry(
    *,
    session: Session,
    kind: EntryKind,
    locked: LockedAccount,
    amount: Decimal,
    description: str,
) -> JournalEntry:
    """A deposit into, or a withdrawal from, a locked customer account, against the bank's
    funding account for its currency."""
    account = locked.account
    fund = funding_account(session=session, currency=account.currency)
    customer_leg = Leg(
        amount if kind == EntryKind.deposit else -amount,
        account=account,
        counterparty_name=fund.name,
    )
    funding_leg = Leg(
        -customer_leg.amount,
        funding=fund,
        counterparty_iban=locked.iban,
        counterparty_name=locked.holder_name,
    )
    # Debit first, so a withdrawal beyond the balance fails before anything else is written.
    legs = [funding_leg, customer_leg] if kind == EntryKind.deposit else [customer_leg, funding_leg]
    entry, _ = record_entry(session=session, kind=kind, description=description, legs=legs)
    return entry


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
}


def _mirror_into_portfolios(session: Session, entry: JournalEntry, legs: Sequence[Leg]) -> None:
    """Each posting on a customer account also appears in that customer's portfolio
    transactions (signed like the posting: positive is money in), in the same unit of work."""
    rows = [
        {
            "customer_id": leg.account.customer_id,
            "account_id": leg.account.id,
            "occurred_at": entry.created_at,
            "transaction_type": _PORTFOLIO_TYPE[entry.kind],
            "amount": leg.amount,
            "currency": leg.account.currency,
            "category": entry.kind.value,
            "counterparty": leg.counterparty_name,
            "description": entry.description,
        }
        for leg in legs
        if leg.account is not None
    ]
    if rows:
        session.execute(insert(PortfolioTransaction), rows)


def _apply_posting(session: Session, entry: JournalEntry, leg: Leg) -> Posting:
    holder = leg.holder
    balance_after = holder.balance + leg.amount
    if leg.account is not None and balance_after < 0:
        raise InsufficientFunds(
            f"Insufficient funds in account {leg.account.iban}: balance "
            f"{to_money(holder.balance)} {holder.currency}, needed {to_money(-leg.amount)} "
            f"{holder.currency}"
        )
    holder.balance = balance_after
    session.add(holder)
    assert entry.id is not None
    posting = Posting(
        journal_entry_id=entry.id,
        account_id=leg.account.id if leg.account is not None else None,
        funding_account_id=leg.funding.id if leg.funding is not None else None,
        amount=leg.amount,
        currency=holder.currency,
        balance_after=balance_after,
        counterparty_iban=leg.counterparty_iban,
        counterparty_name=leg.counterparty_name,
        created_at=entry.created_at,
    )
    session.add(posting)
    # Written now, posting by posting: a failure before the next one leaves a real partial
    # entry in the transaction, which only the rollback of the whole unit of work removes.
    session.flush()
    return posting


def bulk_open_balances(
    *,
    session: Session,
    items: Sequence[tuple[int, Decimal]],
    description: str = "Opening balance",
    now: datetime | None = None,
) -> int:
    """Deposit an opening balance into many accounts at this bank at once (for seeding).

    Per `(account_id, amount)` one deposit entry from the funding account with its two postings,
    the same as `record_entry` writes, but inserted in bulk with a fixed number of statements.
    Runs in the caller's unit of work. Returns the number of entries written.
    """
    wanted = [(account_id, Decimal(amount)) for account_id, amount in items if amount != 0]
    for account_id, amount in wanted:
        if amount < 0 or to_money(amount) != amount:
            raise LedgerInvariantError(f"opening balance {amount} of account {account_id}")
    if not wanted:
        return 0
    if len({account_id for account_id, _ in wanted}) != len(wanted):
        raise LedgerInvariantError("an account appears twice in one bulk opening")
    moment = now or utcnow()
    bank = institutions.get_own_bank(session=session)
    rows = session.exec(
        select(Account, Customer.name)
        .join(Customer, col(Customer.id) == col(Account.customer_id))
        .where(
            col(Account.id).in_([account_id for account_id, _ in wanted]),
            col(Account.institution_id) == bank.id,
        )
        .order_by(col(Account.id))
        .with_for_update(of=Account)
        .execution_options(populate_existing=True)
    ).all()
    accounts = {account.id: (account, name) for account, name in rows}
    missing = [account_id for account_id, _ in wanted if account_id not in accounts]
    if missing:
        raise LedgerInvariantError(f"not accounts at this bank: {missing[:5]}")

    funding = {
        currency: funding_account(session=session, currency=currency, now=moment)
        for currency in sorted({accounts[account_id][0].currency for account_id, _ in wanted})
    }
    entry_ids = session.scalars(
        insert(JournalEntry).returning(col(JournalEntry.id), sort_by_parameter_order=True),
        [
            {"kind": EntryKind.deposit.value, "description": description, "created_at": moment}
            for _ in wanted
        ],
    ).all()
    postings: list[dict[str, object]] = []
    for entry_id, (account_id, amount) in zip(entry_ids, wanted, strict=True):
        account, holder_name = accounts[account_id]
        fund = funding[account.currency]
        fund.balance -= amount
        new_balance = account.balance + amount
        common = {"journal_entry_id": entry_id, "currency": account.currency, "created_at": moment}
        postings.append(
            common
            | {
                "funding_account_id": fund.id,
                "amount": -amount,
                "balance_after": fund.balance,
                "counterparty_iban": account.iban,
                "counterparty_name": holder_name,
            }
        )
        postings.append(
            common
            | {
                "account_id": account_id,
                "amount": amount,
                "balance_after": new_balance,
                "counterparty_name": fund.name,
            }
        )
        account.balance = new_balance
        session.add(account)
    session.execute(insert(Posting), postings)
    for fund in funding.values():
        session.add(fund)
    session.flush()
    # Seeded balances are not mirrored into portfolios; a bulk mirror would go here.
    return len(entry_ids)
