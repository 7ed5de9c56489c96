"""The sandbox's clock: the time every record of this bank is written at.

Services take their time from `now(session)`, read in their own unit of work, so every worker
and host sees the clock as the last committed advance left it. Credentials (tokens, sessions,
API keys, idempotency keys, throttles) keep the wall clock (`app.core.clock.utcnow`): advancing
a sandbox never expires a token.

The clock only moves forward. `advance` moves it, in `real` or `frozen` mode, and runs what falls
due on the way; `freeze` stops it where it is; `unfreeze` lets it flow again from that moment (the
time spent frozen is taken off the offset, so it does not jump). In `real` mode what falls due as
time flows is run by `catch_up`, which the app calls in the background.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from types import ModuleType

from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from app.core.clock import utcnow
from app.core.config import Settings
from app.core.db import insert_if_absent, table_of, write_transaction
from app.core.due import day_start, run_in_order
from app.errors import ClockCannotGoBack, ClockOutOfRange, ValidationFailed
from app.models.clock import (
    CLOCK_ROW_ID,
    MAX_ADVANCE_DAYS,
    ClockAdvance,
    ClockAdvanced,
    ClockMode,
    ClockPublic,
    SandboxClock,
)
from app.services import card_payments, interest, personas, standing_orders, transfers

MICROSECOND = timedelta(microseconds=1)
# A module with `next_due(session, after)` and `due(session, start, end, since, settings)`.
DueKind = ModuleType
MAX_STEP = timedelta(days=MAX_ADVANCE_DAYS)
# Far from the end of the calendar, so that no sum of the clock and a period overflows.
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
_BEYOND = f"The sandbox's clock cannot pass {LATEST.date().isoformat()}"

_CLOCK = table_of(SandboxClock)
_READ = core_select(_CLOCK.c.offset_us, _CLOCK.c.frozen_at, _CLOCK.c.due_through).where(
    _CLOCK.c.id == CLOCK_ROW_ID
)


def _time_of(offset_us: int, frozen_at: datetime | None, wall: datetime) -> datetime:
    return frozen_at if frozen_at is not None else wall + offset_us * MICROSECOND


def now(session: Session) -> datetime:
    """The sandbox's current time (UTC): the wall clock until the clock is first moved."""
    row = session.execute(_READ).first()
    wall = utcnow()
    return wall if row is None else _time_of(row.offset_us, row.frozen_at, wall)


def today_or_later(session: Session, day: date, *, field: str) -> datetime:
    """The sandbox's now, once `day` (a start date in a request) is found to be its today or
    later: 422 for a day already past."""
    moment = now(session)
    if day < moment.date():
        raise ValidationFailed(
            f"{field} must be the sandbox's today ({moment.date().isoformat()}) or later"
        )
    return moment


def read(*, session: Session) -> ClockPublic:
    row = session.execute(_READ).first()
    if row is None:
        return _public(0, None, utcnow())
    return _public(row.offset_us, row.frozen_at, utcnow())


def _locked(session: Session) -> SandboxClock:
    """The clock's row, locked for this unit of work (made on first use)."""
    insert_if_absent(session, SandboxClock, {"id": CLOCK_ROW_ID, "offset_us": 0})
    return session.exec(
        select(SandboxClock)
        .where(col(SandboxClock.id) == CLOCK_ROW_ID)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _public(offset_us: int, frozen_at: datetime | None, wall: datetime) -> ClockPublic:
    return ClockPublic(
        now=_time_of(offset_us, frozen_at, wall),
        mode=ClockMode.frozen if frozen_at is not None else ClockMode.real,
    )


def advance(*, session: Session, settings: Settings, data: ClockAdvance) -> ClockAdvanced:
    """Move the clock forward by `days`/`hours` or to `to`, in one unit of work with what falls
    due on the way (two advances at once run one after the other, each from where the other
    left the clock)."""
    with write_transaction(session):
        clock = _locked(session)
        start = _time_of(clock.offset_us, clock.frozen_at, utcnow())
        if data.to is not None:
            to = data.to if data.to.tzinfo is not None else data.to.replace(tzinfo=UTC)
            if to > LATEST:
                raise ValidationFailed(_BEYOND)
            step = to - start  # aware datetimes subtract without leaving the calendar
            if step < timedelta(0):
                raise ClockCannotGoBack(
                    f"The sandbox's clock is at {start.isoformat()}; it only moves forward: to go "
                    "back in time, restore a snapshot taken earlier"
                )
        else:
            step = timedelta(days=data.days or 0, hours=data.hours or 0)
            if step > MAX_STEP:
                raise ValidationFailed(
                    f"One advance moves the clock at most {MAX_ADVANCE_DAYS} days"
                )
            if step > LATEST - start:
                raise ClockOutOfRange(f"{_BEYOND}: it is at {start.isoformat()}")
        end = start + step
        executed = _run_due(session, settings, start, end, since=clock.due_through or start)
        clock.due_through = end
        if clock.frozen_at is not None:
            clock.frozen_at = end
        else:
            clock.offset_us += step // MICROSECOND
        session.add(clock)
    return ClockAdvanced.model_validate(
        {"from": start, "to": end, "executed": dict(sorted(executed.items()))}
    )


def freeze(*, session: Session) -> ClockPublic:
    """Stop the clock at its current time (no change when it is frozen already)."""
    with write_transaction(session):
        clock = _locked(session)
        wall = utcnow()
        if clock.frozen_at is None:
            clock.frozen_at = _time_of(clock.offset_us, None, wall)
            session.add(clock)
        public = _public(clock.offset_us, clock.frozen_at, wall)
    return public


def unfreeze(*, session: Session) -> ClockPublic:
    """Let the clock flow with the wall clock again, from where it stood."""
    with write_transaction(session):
        clock = _locked(session)
        wall = utcnow()
        if clock.frozen_at is not None:
            clock.offset_us = (clock.frozen_at - wall) // MICROSECOND
            clock.frozen_at = None
            session.add(clock)
        public = _public(clock.offset_us, clock.frozen_at, wall)
    return public


def catch_up(*, session: Session, settings: Settings) -> dict[str, int]:
    """Run what fell due while the clock flowed with the wall clock (real mode), at the clock's
    time: the background runner's step, every CLOCK_TICK_SECONDS. It reads first and takes the
    clock's lock (a write) only when something is due; under the lock each due item runs once,
    however many workers and hosts tick at the same moment."""
    row = session.execute(_READ).first()
    moment = utcnow() if row is None else _time_of(row.offset_us, row.frozen_at, utcnow())
    since = None if row is None else row.due_through
    if since is not None and not any(
        (due := kind.next_due(session=session, after=since)) is not None and due <= moment
        for kind in _DUE_KINDS
    ):
        return {}
    with write_transaction(session):
        clock = _locked(session)
        moment = _time_of(clock.offset_us, clock.frozen_at, utcnow())
        # The first tick of a bank only marks where its time starts counting.
        since = clock.due_through or moment
        executed = _run_due(session, settings, moment, moment, since=since)
        clock.due_through = max(since, moment)
        session.add(clock)
    return dict(sorted(executed.items()))


# Everything that falls due as the clock passes, by kind: each says when its next item falls
# due (`next_due`) and lists its items due by a moment (`due`).
_DUE_KINDS: tuple[DueKind, ...] = (
    card_payments,
    transfers,
    standing_orders,
    interest,
    personas,
)


def _run_due(
    session: Session,
    settings: Settings,
    start: datetime,
    end: datetime,
    *,
    since: datetime,
    kinds: tuple[DueKind, ...] = _DUE_KINDS,
) -> Counter[str]:
    """What falls due by `end`, of every kind, run in time order in the caller's unit of work
    (which holds the clock's lock: each item runs once). `since` is how far due work had run
    (what is due at a moment, such as a month's interest, counts after it).

    It runs a day at a time, skipping the days on which nothing falls due: what an item makes
    due later in the same advance (a card payment placed today settles in two days) runs on
    its day, in order with the rest."""
    ran: Counter[str] = Counter()
    done, earliest = since, start
    while True:
        upcoming = [
            moment
            for kind in kinds
            if (moment := kind.next_due(session=session, after=done)) is not None
        ]
        if not upcoming or min(upcoming) > end:
            return ran
        # The day of the first item due (overdue ones run at `start`), never a day run before.
        day = max(min(upcoming), earliest).date()
        window = min(end, day_start(day + timedelta(days=1)) - MICROSECOND)
        items = [
            item
            for kind in kinds
            for item in kind.due(
                session=session, start=start, end=window, since=done, settings=settings
            )
        ]
        ran.update(run_in_order(items))
        if window >= end:
            return ran
        done, earliest = max(done, window), window + MICROSECOND
