"""Transfers between accounts at this bank: from one of the caller's, to anyone's."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from app.core.config import Settings
from app.core.db import write_transaction
from app.core.due import Due, Run, day_start, due_at
from app.core.identifiers import STORED_ID_MAX
from app.core.money import to_money
from app.core.pagination import encode_cursor, older_than
from app.errors import (
    AccountNotFound,
    CurrencyMismatch,
    InsufficientFunds,
    SameAccount,
    TransferNotCancellable,
    TransferNotFound,
    ValidationFailed,
)
from app.models.account import Account
from app.models.journal_entry import EntryKind
from app.models.transfer import (
    FailureReason,
    PaymentOrder,
    Transfer,
    TransferCreate,
    TransferPublic,
    TransferStatus,
)
from app.schemas.pagination import Page
from app.services import accounts, clock, idempotency, ledger

# Ties at one moment: scheduled transfers first, then standing orders (each by id).
DUE_RANK = 1


def create(
    *,
    session: Session,
    settings: Settings,
    user_id: int,
    customer_id: uuid.UUID,
    data: TransferCreate,
    idempotency_key: str | None = None,
) -> idempotency.Outcome[TransferPublic]:
    """Move `data.amount` from the caller's account to another account of this bank, once: now,
    or on `data.execute_on` (a later date of the sandbox's calendar)."""
    order = Order.of(data)
    body = order.fingerprint()
    if data.execute_on is not None:
        body["execute_on"] = data.execute_on.isoformat()

    def work(s: Session) -> TransferPublic:
        if data.execute_on is not None:
            return _schedule(s, customer_id=customer_id, order=order, execute_on=data.execute_on)
        return _transfer_now(s, customer_id=customer_id, order=order)

    return idempotency.execute(
        session=session,
        settings=settings,
        user_id=user_id,
        key=idempotency_key,
        fingerprint=idempotency.fingerprint(method="POST", path="/transfers", body=body),
        response_model=TransferPublic,
        work=work,
    )


@dataclass(frozen=True)
class Order:
    """What a payment moves, where from and where to: a transfer's, a standing order's."""

    source: str
    target: str
    amount: Decimal
    currency: str
    description: str

    @classmethod
    def of(cls, data: PaymentOrder) -> Order:
        """From a request, normalised: IBANs in their electronic form, the amount exact (422
        when source and destination are the same account)."""
        order = cls(
            accounts.normalise_iban(data.from_iban),
            accounts.normalise_iban(data.to_iban),
            to_money(data.amount),
            data.currency,
            data.description,
        )
        if order.source == order.target:
            raise SameAccount()
        return order

    @classmethod
    def of_row(cls, row: Transfer) -> Order:
        return cls(row.from_iban, row.to_iban, row.amount, row.currency, row.description)

    def fingerprint(self) -> dict[str, str | None]:
        """The fields an idempotency key's request fingerprint is made of."""
        return {
            "from_iban": self.source,
            "to_iban": self.target,
            "amount": str(self.amount),
            "currency": self.currency,
            "description": self.description,
        }


def lock_pair(
    session: Session, *, order: Order, owner: uuid.UUID | int
) -> tuple[ledger.LockedAccount, ledger.LockedAccount]:
    """Both accounts, locked for the unit of work, after the checks every transfer passes: the
    source is the caller's (`owner` a customer id) or still the account a scheduled transfer
    was made from (`owner` that account's id), both exist and hold the currency."""
    locked = ledger.lock_accounts(session=session, ibans=[order.source, order.target])
    src = locked.get(order.source)
    owned = src is not None and (
        src.account.customer_id == owner
        if isinstance(owner, uuid.UUID)
        else src.account.id == owner
    )
    if src is None or not owned:
        raise AccountNotFound(f"Account {order.source} not found")
    dst = locked.get(order.target)
    if dst is None:
        raise AccountNotFound(f"Destination account {order.target} not found")
    if src.account.currency != order.currency:
        raise CurrencyMismatch(
            f"Account {order.source} holds {src.account.currency}, not {order.currency} "
            "(no FX here)"
        )
    if dst.account.currency != order.currency:
        raise CurrencyMismatch(f"Destination account {order.target} does not hold {order.currency}")
    return src, dst


def _book(
    session: Session,
    *,
    src: ledger.LockedAccount,
    dst: ledger.LockedAccount,
    order: Order,
    at: datetime | None = None,
) -> ledger.Recorded:
    """The transfer's money, through the ledger (at `at`, or the sandbox's now)."""
    entry = ledger.record_entry(
        session=session,
        kind=EntryKind.transfer,
        description=order.description,
        now=at,
        legs=[
            ledger.Leg(
                -order.amount,
                account=src.account,
                counterparty_iban=dst.iban,
                counterparty_name=dst.holder_name,
            ),
            ledger.Leg(
                order.amount,
                account=dst.account,
                counterparty_iban=src.iban,
                counterparty_name=src.holder_name,
            ),
        ],
    )
    return entry


def _record(
    session: Session,
    order: Order,
    *,
    from_account_id: int | None,
    to_account_id: int | None,
    created_at: datetime,
    status: TransferStatus,
    entry_id: int | None = None,
    execute_on: date | None = None,
    failure_reason: FailureReason | None = None,
) -> Transfer:
    transfer = Transfer(
        from_account_id=from_account_id,
        to_account_id=to_account_id,
        from_iban=order.source,
        to_iban=order.target,
        amount=order.amount,
        currency=order.currency,
        description=order.description,
        entry_id=entry_id,
        status=status,
        execute_on=execute_on,
        failure_reason=failure_reason,
        created_at=created_at,
    )
    session.add(transfer)
    session.flush()
    return transfer


def _transfer_now(session: Session, *, customer_id: uuid.UUID, order: Order) -> TransferPublic:
    src, dst = lock_pair(session, order=order, owner=customer_id)
    entry = _book(session, src=src, dst=dst, order=order)
    transfer = _record(
        session,
        order,
        from_account_id=src.account.id,
        to_account_id=dst.account.id,
        created_at=entry.created_at,
        status=TransferStatus.completed,
        entry_id=entry.id,
    )
    return TransferPublic.model_validate(transfer)


def _schedule(
    session: Session, *, customer_id: uuid.UUID, order: Order, execute_on: date
) -> TransferPublic:
    now = clock.now(session)
    if execute_on <= now.date():
        raise ValidationFailed(
            f"execute_on must be a later date than the sandbox's today ({now.date().isoformat()});"
            " leave it out to transfer now"
        )
    src, dst = lock_pair(session, order=order, owner=customer_id)
    transfer = _record(
        session,
        order,
        from_account_id=src.account.id,
        to_account_id=dst.account.id,
        created_at=now,
        status=TransferStatus.scheduled,
        execute_on=execute_on,
    )
    return TransferPublic.model_validate(transfer)


def _due(until: datetime) -> ColumnElement[bool]:
    return and_(
        col(Transfer.status) == TransferStatus.scheduled,
        col(Transfer.execute_on) <= until.date(),
    )


def next_due(*, session: Session, after: datetime) -> datetime | None:
    """When the next scheduled transfer falls due (it may be before `after`: overdue)."""
    day = session.exec(
        select(func.min(Transfer.execute_on)).where(
            col(Transfer.status) == TransferStatus.scheduled
        )
    ).one()
    return None if day is None else day_start(day)


def due(
    *, session: Session, start: datetime, end: datetime, since: datetime, settings: Settings
) -> list[Due]:
    """The scheduled transfers whose date falls by `end`, each to run at the start of its day
    (or at `start` when that day began before it), in the caller's unit of work, which holds the
    clock: each runs once."""
    rows = session.exec(
        select(Transfer).where(_due(end)).order_by(col(Transfer.id)).with_for_update()
    ).all()
    items = []
    for transfer in rows:
        assert transfer.execute_on is not None
        assert transfer.id is not None
        at = due_at(transfer.execute_on, start)
        items.append(Due(at=at, rank=(DUE_RANK, transfer.id), run=_runner(session, transfer, at)))
    return items


def _runner(session: Session, transfer: Transfer, at: datetime) -> Run:
    return lambda: _run_scheduled(session, transfer, at)


def _run_scheduled(session: Session, transfer: Transfer, at: datetime) -> dict[str, int]:
    booked = _attempt(
        session, order=Order.of_row(transfer), from_account_id=transfer.from_account_id, at=at
    )
    transfer.entry_id, transfer.failure_reason = booked.entry_id, booked.failure_reason
    transfer.status = _status_of(booked.failure_reason)
    session.add(transfer)
    session.flush()
    return {f"transfer.{transfer.status}": 1}


def run_order(
    session: Session, *, order: Order, from_account_id: int | None, at: datetime, execute_on: date
) -> Transfer:
    """A payment due now from an instruction made earlier (a standing order's occurrence): a
    transfer, completed, or failed with its reason (nothing moved)."""
    booked = _attempt(session, order=order, from_account_id=from_account_id, at=at)
    return _record(
        session,
        order,
        from_account_id=from_account_id,
        to_account_id=booked.to_account_id,
        created_at=at,
        status=_status_of(booked.failure_reason),
        entry_id=booked.entry_id,
        execute_on=execute_on,
        failure_reason=booked.failure_reason,
    )


@dataclass(frozen=True)
class _Booked:
    entry_id: int | None = None
    to_account_id: int | None = None
    failure_reason: FailureReason | None = None


def _attempt(
    session: Session, *, order: Order, from_account_id: int | None, at: datetime
) -> _Booked:
    """Book a payment instructed earlier, at `at`: its journal entry, or why it cannot run
    (every rule is checked before anything is written, so a failure moves nothing). The source
    must still be the account it was instructed from."""
    try:
        if from_account_id is None:
            raise AccountNotFound()
        src, dst = lock_pair(session, order=order, owner=from_account_id)
        entry = _book(session, src=src, dst=dst, order=order, at=at)
    except InsufficientFunds:
        return _Booked(failure_reason=FailureReason.insufficient_funds)
    except (AccountNotFound, CurrencyMismatch):
        return _Booked(failure_reason=FailureReason.account_not_found)
    return _Booked(entry.id, dst.account.id)


def _status_of(reason: FailureReason | None) -> TransferStatus:
    return TransferStatus.completed if reason is None else TransferStatus.failed


def cancel(*, session: Session, customer_id: uuid.UUID, transfer_id: int) -> TransferPublic:
    """Cancel a scheduled transfer from one of the customer's accounts (409 once it ran or was
    cancelled; 404 for any transfer not from the customer's accounts)."""
    if transfer_id > STORED_ID_MAX:
        raise TransferNotFound()
    with write_transaction(session):
        transfer = session.exec(
            select(Transfer)
            .where(
                col(Transfer.id) == transfer_id,
                col(Transfer.from_account_id).in_(_own(customer_id)),
            )
            .with_for_update()
        ).first()
        if transfer is None:
            raise TransferNotFound()
        if transfer.status != TransferStatus.scheduled:
            raise TransferNotCancellable(
                f"Transfer {transfer_id} is {transfer.status}: only a scheduled transfer can be "
                "cancelled"
            )
        transfer.status = TransferStatus.cancelled
        session.add(transfer)
        session.flush()
        public = TransferPublic.model_validate(transfer)
    return public


def _own(customer_id: uuid.UUID) -> SelectOfScalar[Any]:
    """The ids of the customer's accounts (a subquery)."""
    return select(Account.id).where(col(Account.customer_id) == customer_id)


def _involving(customer_id: uuid.UUID) -> ColumnElement[bool]:
    """From the customer's accounts (whatever their status), or to them once booked."""
    own = _own(customer_id)
    return or_(
        col(Transfer.from_account_id).in_(own),
        and_(
            col(Transfer.to_account_id).in_(own),
            col(Transfer.status) == TransferStatus.completed,
        ),
    )


def get(*, session: Session, customer_id: uuid.UUID, transfer_id: int) -> TransferPublic:
    """A transfer from or to one of the customer's accounts; 404 for any other."""
    if transfer_id > STORED_ID_MAX:
        raise TransferNotFound()
    transfer = session.exec(
        select(Transfer).where(col(Transfer.id) == transfer_id, _involving(customer_id))
    ).first()
    if transfer is None:
        raise TransferNotFound()
    return TransferPublic.model_validate(transfer)


def list_for_customer(
    *, session: Session, customer_id: uuid.UUID, limit: int, before: str | None = None
) -> Page[TransferPublic]:
    """Transfers from or to the customer's accounts, newest first, one keyset page."""
    statement = select(Transfer).where(_involving(customer_id))
    if before:
        statement = statement.where(older_than(col(Transfer.created_at), col(Transfer.id), before))
    rows = session.exec(
        statement.order_by(col(Transfer.created_at).desc(), col(Transfer.id).desc()).limit(
            limit + 1
        )
    ).all()
    page = rows[:limit]
    last = page[-1] if len(rows) > limit else None
    return Page[TransferPublic](
        items=[TransferPublic.model_validate(t) for t in page],
        next_before=encode_cursor(last.created_at, last.id) if last and last.id else None,
    )
