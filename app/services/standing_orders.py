"""Standing orders: a customer's weekly or monthly payment from one of their accounts, and its
occurrences, run by the sandbox's clock (each once, in time order with everything else due).

Month ends: a monthly order runs on its start date's day of the month, or on the last day of a
month that has no such day (an order starting on 31 January runs on 28 or 29 February, 31 March,
30 April, ...). A weekly order runs every 7 days from its start date. An occurrence runs at the
start of its day (UTC) on the sandbox's clock, as a transfer; without the funds it fails
(`insufficient_funds`, recorded, not retried) and the order goes on.
"""

from __future__ import annotations

import calendar
import uuid
from datetime import date, datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.core.config import Settings
from app.core.db import write_transaction
from app.core.due import Due, Run, day_start, due_at, first_of_next_month
from app.core.identifiers import STORED_ID_MAX
from app.errors import StandingOrderNotActive, StandingOrderNotFound
from app.models.standing_order import (
    ExecutionPublic,
    ExecutionStatus,
    Frequency,
    StandingOrder,
    StandingOrderCreate,
    StandingOrderDetail,
    StandingOrderExecution,
    StandingOrderPublic,
    StandingOrderStatus,
)
from app.models.transfer import TransferStatus
from app.services import clock, idempotency, transfers

# Ties at one moment: scheduled transfers first, then standing orders (each by id).
DUE_RANK = 2


def create(
    *,
    session: Session,
    settings: Settings,
    user_id: int,
    customer_id: uuid.UUID,
    data: StandingOrderCreate,
    idempotency_key: str | None = None,
) -> idempotency.Outcome[StandingOrderPublic]:
    """A standing order from one of the caller's accounts (checked now, as a transfer's are)."""
    order = transfers.Order.of(data)
    body = {
        **order.fingerprint(),
        "frequency": data.frequency.value,
        "start_on": data.start_on.isoformat(),
        "end_on": data.end_on.isoformat() if data.end_on else None,
    }

    def work(s: Session) -> StandingOrderPublic:
        now = clock.today_or_later(s, data.start_on, field="start_on")
        src, dst = transfers.lock_pair(s, order=order, owner=customer_id)
        assert src.account.id is not None
        row = StandingOrder(
            customer_id=customer_id,
            from_account_id=src.account.id,
            from_iban=src.iban,
            to_iban=dst.iban,
            amount=order.amount,
            currency=order.currency,
            description=order.description,
            frequency=data.frequency,
            start_on=data.start_on,
            end_on=data.end_on,
            day_of_month=data.start_on.day,
            next_on=data.start_on,
            created_at=now,
        )
        s.add(row)
        s.flush()
        return StandingOrderPublic.model_validate(row)

    return idempotency.execute(
        session=session,
        settings=settings,
        user_id=user_id,
        key=idempotency_key,
        fingerprint=idempotency.fingerprint(method="POST", path="/standing-orders", body=body),
        response_model=StandingOrderPublic,
        work=work,
    )


def list_for_customer(*, session: Session, customer_id: uuid.UUID) -> list[StandingOrderPublic]:
    """The customer's standing orders, newest first."""
    rows = session.exec(
        select(StandingOrder)
        .where(col(StandingOrder.customer_id) == customer_id)
        .order_by(col(StandingOrder.id).desc())
    ).all()
    return [StandingOrderPublic.model_validate(row) for row in rows]


def _own(session: Session, customer_id: uuid.UUID, order_id: int) -> StandingOrder:
    if order_id > STORED_ID_MAX:
        raise StandingOrderNotFound()
    row = session.exec(
        select(StandingOrder).where(
            col(StandingOrder.id) == order_id, col(StandingOrder.customer_id) == customer_id
        )
    ).first()
    if row is None:
        raise StandingOrderNotFound()
    return row


def get(*, session: Session, customer_id: uuid.UUID, order_id: int) -> StandingOrderDetail:
    """One of the customer's standing orders with every occurrence run so far."""
    row = _own(session, customer_id, order_id)
    executions = session.exec(
        select(StandingOrderExecution)
        .where(col(StandingOrderExecution.standing_order_id) == order_id)
        .order_by(col(StandingOrderExecution.occurrence_on))
    ).all()
    return StandingOrderDetail.model_validate(
        {
            **StandingOrderPublic.model_validate(row).model_dump(),
            "executions": [ExecutionPublic.model_validate(e) for e in executions],
        }
    )


def cancel(*, session: Session, customer_id: uuid.UUID, order_id: int) -> StandingOrderPublic:
    """Stop an active standing order (409 when it ended or was cancelled already)."""
    with write_transaction(session):
        row = _own(session, customer_id, order_id)
        if row.status != StandingOrderStatus.active:
            raise StandingOrderNotActive(
                f"Standing order {order_id} is {row.status}: only an active one can be cancelled"
            )
        row.status = StandingOrderStatus.cancelled
        row.next_on = None
        session.add(row)
        session.flush()
        public = StandingOrderPublic.model_validate(row)
    return public


# --- as the clock passes ---------------------------------------------------------------------


def _on_day(year: int, month: int, day_of_month: int) -> date:
    return date(year, month, min(day_of_month, calendar.monthrange(year, month)[1]))


def following(row: StandingOrder, day: date) -> date | None:
    """The occurrence after the one on `day`, or None when the order ends before it."""
    try:
        if row.frequency == Frequency.weekly:
            after = day + timedelta(days=7)
        else:
            first = first_of_next_month(day)
            after = _on_day(first.year, first.month, row.day_of_month)
    except (OverflowError, ValueError):  # past the end of the calendar
        return None
    return None if row.end_on is not None and after > row.end_on else after


def next_due(*, session: Session, after: datetime) -> datetime | None:
    """When the next occurrence falls due (it may be before `after`: overdue)."""
    day = session.exec(
        select(func.min(StandingOrder.next_on)).where(
            col(StandingOrder.status) == StandingOrderStatus.active
        )
    ).one()
    return None if day is None else day_start(day)


def due(
    *, session: Session, start: datetime, end: datetime, since: datetime, settings: Settings
) -> list[Due]:
    """Every occurrence that falls due by `end`, each to run at the start of its day (or at
    `start` when that day began before it). The caller holds the clock's lock."""
    rows = session.exec(
        select(StandingOrder)
        .where(
            col(StandingOrder.status) == StandingOrderStatus.active,
            col(StandingOrder.next_on) <= end.date(),
        )
        .order_by(col(StandingOrder.id))
        .with_for_update()
    ).all()
    items = []
    for row in rows:
        assert row.id is not None
        day = row.next_on
        while day is not None and day <= end.date():
            at = due_at(day, start)
            items.append(Due(at=at, rank=(DUE_RANK, row.id), run=_runner(session, row, day, at)))
            day = following(row, day)
    return items


def _runner(session: Session, row: StandingOrder, day: date, at: datetime) -> Run:
    return lambda: _run(session, row, day, at)


def _run(session: Session, row: StandingOrder, day: date, at: datetime) -> dict[str, int]:
    """One occurrence: a transfer (completed, or failed with its reason), its execution row, and
    the order's next date."""
    made = transfers.run_order(
        session,
        order=transfers.Order(
            row.from_iban, row.to_iban, row.amount, row.currency, row.description
        ),
        from_account_id=row.from_account_id,
        at=at,
        execute_on=day,
    )
    completed = made.status == TransferStatus.completed
    assert row.id is not None
    session.add(
        StandingOrderExecution(
            standing_order_id=row.id,
            occurrence_on=day,
            status=ExecutionStatus.completed if completed else ExecutionStatus.failed,
            failure_reason=made.failure_reason,
            transfer_id=made.id,
            executed_at=at,
        )
    )
    row.next_on = following(row, day)
    if row.next_on is None:
        row.status = StandingOrderStatus.ended
    session.add(row)
    session.flush()
    return {"standing_order.executed" if completed else "standing_order.failed": 1}
