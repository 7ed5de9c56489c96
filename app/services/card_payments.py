"""Card payments: a hold on an account's available balance, then a ledger entry when it settles.

A hold lowers the account's available balance at once (`Account.held` grows by its amount) and
its booked balance not at all. It posts, as a `card_payment` journal entry from the account to
the bank's funding account for the currency (the card scheme's side), when the sandbox's clock
reaches `settles_at` (CARD_SETTLEMENT_DAYS after it was placed) or when settled on request; or
it is released, and the money is available again. Every debit of the ledger is checked against
the available balance, so a hold can always post.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, select

from app.core.config import Settings
from app.core.db import write_transaction
from app.core.due import Due, Run
from app.core.identifiers import STORED_ID_MAX
from app.core.money import to_money
from app.errors import (
    AccountNotFound,
    CardPaymentNotFound,
    CardPaymentNotHeld,
    CurrencyMismatch,
    InsufficientFunds,
)
from app.models.account import Account
from app.models.card_payment import (
    CardPayment,
    CardPaymentCreate,
    CardPaymentPublic,
    CardPaymentStatus,
)
from app.models.journal_entry import EntryKind
from app.services import accounts, clock, ledger

# Ties at one moment: holds settle first (settling changes no available balance).
DUE_RANK = 0


def hold(*, session: Session, settings: Settings, data: CardPaymentCreate) -> CardPaymentPublic:
    """Place a hold for a card payment on an account at this bank: refused (422) beyond the
    account's available balance or in another currency than the account's."""
    iban = accounts.normalise_iban(data.iban)
    amount = to_money(data.amount)
    with write_transaction(session):
        locked = ledger.lock_accounts(session=session, ibans=[iban]).get(iban)
        if locked is None:
            raise AccountNotFound(f"Account {iban} not found")
        account = locked.account
        if account.currency != data.currency:
            raise CurrencyMismatch(f"Account {iban} holds {account.currency}, not {data.currency}")
        if amount > account.available_balance:
            raise InsufficientFunds(
                f"Card payment declined: account {iban} has {to_money(account.available_balance)} "
                f"{account.currency} available, the payment needs {amount} {account.currency}"
            )
        now = clock.now(session)
        assert account.id is not None
        row = CardPayment(
            account_id=account.id,
            iban=iban,
            amount=amount,
            currency=account.currency,
            merchant=data.merchant,
            category=data.category,
            held_at=now,
            settles_at=now + timedelta(days=settings.card_settlement_days),
        )
        account.held += amount
        session.add_all([account, row])
        session.flush()
        public = CardPaymentPublic.model_validate(row)
    return public


def get(*, session: Session, payment_id: int) -> CardPaymentPublic:
    return CardPaymentPublic.model_validate(_find(session, payment_id))


def settle(*, session: Session, payment_id: int) -> CardPaymentPublic:
    """Post a held payment now (409 once it was posted or released)."""
    with write_transaction(session):
        row = _held(session, payment_id)
        _post(session, row, clock.now(session))
        public = CardPaymentPublic.model_validate(row)
    return public


def release(*, session: Session, payment_id: int) -> CardPaymentPublic:
    """Lift a hold: nothing is booked, the money is available again (409 unless held)."""
    with write_transaction(session):
        row = _held(session, payment_id)
        _lift(session, row)
        row.status = CardPaymentStatus.released
        row.released_at = clock.now(session)
        session.add(row)
        session.flush()
        public = CardPaymentPublic.model_validate(row)
    return public


def pending_on_account(*, session: Session, account_id: int) -> list[CardPaymentPublic]:
    """The payments still held on this account, oldest first."""
    return _pending(session, col(CardPayment.account_id) == account_id)


def pending_of_customer(*, session: Session, customer_id: uuid.UUID) -> list[CardPaymentPublic]:
    """The payments still held on the customer's accounts, oldest first."""
    owned = select(Account.id).where(col(Account.customer_id) == customer_id)
    return _pending(session, col(CardPayment.account_id).in_(owned))


def _pending(session: Session, where: ColumnElement[bool]) -> list[CardPaymentPublic]:
    rows = session.exec(
        select(CardPayment)
        .where(where, col(CardPayment.status) == CardPaymentStatus.held)
        .order_by(col(CardPayment.held_at), col(CardPayment.id))
    ).all()
    return [CardPaymentPublic.model_validate(row) for row in rows]


def release_all(*, session: Session, customer_id: uuid.UUID) -> int:
    """Release every hold on the customer's accounts (before the customer is deleted: its
    balances go back to the bank in full). Returns how many were released."""
    rows = session.exec(
        select(CardPayment)
        .join(Account, col(Account.id) == col(CardPayment.account_id))
        .where(
            col(Account.customer_id) == customer_id,
            col(CardPayment.status) == CardPaymentStatus.held,
        )
        .order_by(col(CardPayment.id))
        .with_for_update(of=CardPayment)
    ).all()
    now = clock.now(session)
    for row in rows:
        _lift(session, row)
        row.status = CardPaymentStatus.released
        row.released_at = now
        session.add(row)
    session.flush()
    return len(rows)


def _find(session: Session, payment_id: int, *, lock: bool = False) -> CardPayment:
    if payment_id > STORED_ID_MAX:
        raise CardPaymentNotFound()
    statement = select(CardPayment).where(col(CardPayment.id) == payment_id)
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    row = session.exec(statement).first()
    if row is None:
        raise CardPaymentNotFound()
    return row


def _held(session: Session, payment_id: int) -> CardPayment:
    row = _find(session, payment_id, lock=True)
    if row.status != CardPaymentStatus.held:
        raise CardPaymentNotHeld(
            f"Card payment {payment_id} is {row.status}: only a held one can be settled or released"
        )
    return row


def _lift(session: Session, row: CardPayment) -> ledger.LockedAccount:
    """Take the hold off its account (locked, its new `held` flushed before anything else
    moves its balance)."""
    locked = ledger.lock_accounts(session=session, ibans=[row.iban])[row.iban]
    locked.account.held -= row.amount
    session.add(locked.account)
    session.flush()
    return locked


def _post(session: Session, row: CardPayment, at: datetime) -> None:
    """Book a held payment: the hold comes off, the entry takes the money."""
    locked = _lift(session, row)
    fund = ledger.funding_account(session=session, currency=row.currency)
    entry, _ = ledger.record_entry(
        session=session,
        kind=EntryKind.card_payment,
        description=f"Card payment: {row.merchant}",
        now=at,
        category=row.category,
        legs=[
            ledger.Leg(-row.amount, account=locked.account, counterparty_name=row.merchant),
            ledger.Leg(
                row.amount,
                funding=fund,
                counterparty_iban=locked.iban,
                counterparty_name=locked.holder_name,
            ),
        ],
    )
    row.status = CardPaymentStatus.posted
    row.posted_at = at
    row.entry_id = entry.id
    session.add(row)
    session.flush()


# --- as the clock passes ---------------------------------------------------------------------


def any_due(*, session: Session, since: datetime, until: datetime) -> bool:
    """Whether a hold settles by `until` (a read, on the status/settlement index)."""
    return (
        session.exec(
            select(CardPayment.id)
            .where(
                col(CardPayment.status) == CardPaymentStatus.held,
                col(CardPayment.settles_at) <= until,
            )
            .limit(1)
        ).first()
        is not None
    )


def due(*, session: Session, start: datetime, end: datetime, since: datetime) -> list[Due]:
    """Every hold that settles by `end`, each posted at its moment (or at `start` when that
    passed before it). The caller holds the clock's lock."""
    rows = session.exec(
        select(CardPayment)
        .where(
            col(CardPayment.status) == CardPaymentStatus.held,
            col(CardPayment.settles_at) <= end,
        )
        .order_by(col(CardPayment.id))
        .with_for_update()
    ).all()
    items = []
    for row in rows:
        assert row.id is not None
        at = max(start, row.settles_at)
        items.append(Due(at=at, rank=(DUE_RANK, row.id), run=_runner(session, row, at)))
    return items


def _runner(session: Session, row: CardPayment, at: datetime) -> Run:
    def run() -> dict[str, int]:
        _post(session, row, at)
        return {"card_payment.posted": 1}

    return run
