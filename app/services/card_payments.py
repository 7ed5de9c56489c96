"""Card payments: a hold on an account's available balance, then a ledger entry when it settles.

A hold lowers the account's available balance at once (`Account.held` grows by its amount) and
its booked balance not at all. It posts, as a `card_payment` journal entry from the account to
the bank's funding account for the currency (the card scheme's side), when the sandbox's clock
reaches `settles_at` (the start of the day CARD_SETTLEMENT_DAYS after the day it was placed)
or when settled on request; or it is released, and the money is available again. A posted
payment counts in its customer's spending (the portfolio's spending rows are their sums). Every
debit of the ledger is checked against the available balance, so a hold can always post.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, bindparam, func, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from app.core.config import Settings
from app.core.db import insert_rows, table_of, write_transaction
from app.core.due import Due, Run, day_start
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
from app.models.funding_account import FundingAccount
from app.models.journal_entry import EntryKind
from app.services import accounts, clock, ledger, spending

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
        [payment_id] = place(
            session,
            [Hold(locked, amount, data.merchant, data.category, now)],
            settlement_days=settings.card_settlement_days,
        )
        public = get(session=session, payment_id=payment_id)
    return public


@dataclass(frozen=True)
class Hold:
    """A card payment to hold: on a locked account at this bank, its amount within the available
    balance (checked by the caller), at a moment."""

    account: ledger.LockedAccount
    amount: Decimal
    merchant: str
    category: str
    at: datetime


def settles_at(at: datetime, settlement_days: int) -> datetime:
    """When a card payment made at `at` settles: at the start of the day `settlement_days` after
    its own, never before it was made."""
    return max(day_start(at.date() + timedelta(days=settlement_days)), at)


def place(
    session: Session,
    holds: Sequence[Hold],
    *,
    settlement_days: int,
    posted: Sequence[tuple[datetime, int] | None] | None = None,
) -> list[int]:
    """Hold card payments, in one batch: their rows, each to settle `settles_at`, and each
    account's `held` grown by their amounts. Returns their ids, in order.

    `posted` (a life lived over the past, in one batch): for each hold, when it posted and its
    journal entry (already recorded), or None when it is still held. A posted one holds
    nothing any more and counts in its customer's spending."""
    if not holds:
        return []
    settled = posted or [None] * len(holds)
    rows = []
    for hold, booked in zip(holds, settled, strict=True):
        assert hold.account.account.id is not None
        rows.append(
            {
                "account_id": hold.account.account.id,
                "iban": hold.account.iban,
                "amount": hold.amount,
                "currency": hold.account.account.currency,
                "merchant": hold.merchant,
                "category": hold.category,
                "status": CardPaymentStatus.held if booked is None else CardPaymentStatus.posted,
                "held_at": hold.at,
                "settles_at": settles_at(hold.at, settlement_days),
                "posted_at": None if booked is None else booked[0],
                "entry_id": None if booked is None else booked[1],
            }
        )
    ids = insert_rows(session, _PAYMENTS, rows, numbered=True)
    pending = [hold for hold, booked in zip(holds, settled, strict=True) if booked is None]
    if pending:
        _move_held(session, [(hold.account.account, hold.amount) for hold in pending])
    spending.add(
        session=session,
        amounts=[
            (hold.account.account.customer_id, booked[0], hold.category,
             hold.account.account.currency, hold.amount)
            for hold, booked in zip(holds, settled, strict=True)
            if booked is not None
        ],
    )  # fmt: skip
    return ids


_HELD = (
    update(table_of(Account))
    .where(table_of(Account).c.id == bindparam("account_id"))
    .values(held=bindparam("new_held"))
)


def _move_held(session: Session, moves: Sequence[tuple[Account, Decimal]]) -> None:
    """Add to (or take from) what accounts hold, in one statement, and give the loaded
    accounts their new `held` as committed state."""
    held: dict[int, tuple[Account, Decimal]] = {}
    for account, amount in moves:
        assert account.id is not None
        before = held[account.id][1] if account.id in held else account.held
        held[account.id] = (account, before + amount)
    session.execute(
        _HELD,
        [{"account_id": account_id, "new_held": value} for account_id, (_, value) in held.items()],
    )
    for account, value in held.values():
        set_committed_value(account, "held", value)


_PAYMENTS = table_of(CardPayment)
_POSTED = (
    update(_PAYMENTS)
    .where(_PAYMENTS.c.id == bindparam("payment_id"))
    .values(status=CardPaymentStatus.posted.value, posted_at=bindparam("posted_at"),
            entry_id=bindparam("entry_id"))
)  # fmt: skip


def get(*, session: Session, payment_id: int) -> CardPaymentPublic:
    return CardPaymentPublic.model_validate(_find(session, payment_id))


def settle(*, session: Session, payment_id: int) -> CardPaymentPublic:
    """Post a held payment now (409 once it was posted or released)."""
    with write_transaction(session):
        row = _held(session, payment_id)
        post(session, [row], clock.now(session))
        public = CardPaymentPublic.model_validate(row)
    return public


def release(*, session: Session, payment_id: int) -> CardPaymentPublic:
    """Lift a hold: nothing is booked, the money is available again (409 unless held)."""
    with write_transaction(session):
        row = _held(session, payment_id)
        _release(session, [row])
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
    _release(session, rows)
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


def _release(session: Session, rows: Sequence[CardPayment]) -> None:
    """Lift held payments: their holds come off their accounts (locked), nothing is booked."""
    if not rows:
        return
    locked = ledger.lock_accounts(session=session, ibans={row.iban for row in rows})
    _move_held(session, [(locked[row.iban].account, -row.amount) for row in rows])
    now = clock.now(session)
    for row in rows:
        row.status = CardPaymentStatus.released
        row.released_at = now
    session.add_all(rows)
    session.flush()


def post(session: Session, rows: Sequence[CardPayment], at: datetime) -> None:
    """Book held payments, in one batch: their holds come off their accounts (locked), one
    `card_payment` entry each takes the money to the bank's funding account for the currency,
    and each counts in its customer's spending for the month it posts in."""
    if not rows:
        return
    locked = ledger.lock_accounts(session=session, ibans={row.iban for row in rows})
    # The holds come off before the balances move (the held <= balance check).
    _move_held(session, [(locked[row.iban].account, -row.amount) for row in rows])
    funds = {
        currency: ledger.funding_account(session=session, currency=currency)
        for currency in sorted({row.currency for row in rows})
    }
    entries = [
        posting_entry(
            locked[row.iban], funds[row.currency], row.amount, row.merchant, row.category, at
        )
        for row in rows
    ]
    recorded = ledger.record_entries(session=session, entries=entries)
    session.execute(
        _POSTED,
        [
            {"payment_id": row.id, "posted_at": at, "entry_id": entry.id}
            for row, entry in zip(rows, recorded, strict=True)
        ],
    )
    for row, entry in zip(rows, recorded, strict=True):
        for name, value in (
            ("status", CardPaymentStatus.posted),
            ("posted_at", at),
            ("entry_id", entry.id),
        ):
            set_committed_value(row, name, value)
    spending.add(
        session=session,
        amounts=[
            (locked[row.iban].account.customer_id, at, row.category, row.currency, row.amount)
            for row in rows
        ],
    )


def posting_entry(
    holder: ledger.LockedAccount,
    fund: FundingAccount,
    amount: Decimal,
    merchant: str,
    category: str,
    at: datetime,
) -> ledger.Entry:
    """The journal entry of a card payment posting: `amount` from the account to the bank's
    funding account for its currency (the card scheme's side)."""
    return ledger.Entry(
        kind=EntryKind.card_payment,
        description=f"Card payment: {merchant}",
        at=at,
        category=category,
        legs=ledger.funding_legs(holder, fund, -amount, outside=merchant),
    )


# --- as the clock passes ---------------------------------------------------------------------


def next_due(*, session: Session, after: datetime) -> datetime | None:
    """When the next held payment settles (it may be before `after`: overdue)."""
    return session.exec(
        select(func.min(CardPayment.settles_at)).where(
            col(CardPayment.status) == CardPaymentStatus.held
        )
    ).one()


def due(
    *, session: Session, start: datetime, end: datetime, since: datetime, settings: Settings
) -> list[Due]:
    """The holds that settle by `end`, posted in one batch per settlement moment (or at `start`
    when that passed before it). The caller holds the clock's lock."""
    rows = session.exec(
        select(CardPayment)
        .where(
            col(CardPayment.status) == CardPaymentStatus.held,
            col(CardPayment.settles_at) <= end,
        )
        .order_by(col(CardPayment.settles_at), col(CardPayment.id))
        .with_for_update()
    ).all()
    by_moment: dict[datetime, list[CardPayment]] = {}
    for row in rows:
        by_moment.setdefault(max(start, row.settles_at), []).append(row)
    items = []
    for at, batch in by_moment.items():
        assert batch[0].id is not None
        items.append(Due(at=at, rank=(DUE_RANK, batch[0].id), run=_runner(session, batch, at)))
    return items


def _runner(session: Session, rows: list[CardPayment], at: datetime) -> Run:
    def run() -> dict[str, int]:
        post(session, rows, at)
        return {"card_payment.posted": len(rows)}

    return run
