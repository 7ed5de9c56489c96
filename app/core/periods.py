"""Date ranges for the `from` / `to` filters, one mechanism for every list that has them.

The caller gives inclusive bounds: each a date (`to` then means the end of that day) or a date
and time (UTC when it has no zone). A query needs the half-open UTC interval `[since, until)`.
Near the edges of the calendar that interval does not fit in a `datetime` (the day after
9999-12-31 does not exist, `0001-01-01T00:00+01:00` is in year 0 in UTC), so the bounds are
computed as distances from the first moment of the calendar, which never overflow, and only
then turned back into datetimes: a bound beyond the calendar becomes no bound (or an empty
interval when it excludes everything), so every range has its correct answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from pydantic import BeforeValidator

from app.errors import InvalidPeriod

EPOCH = datetime.min.replace(tzinfo=UTC)
LAST = datetime.max.replace(tzinfo=UTC) - EPOCH  # the last representable moment
DAY = timedelta(days=1)
MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class Period:
    """`[since, until)` in UTC; None is no bound on that side."""

    since: datetime | None = None
    until: datetime | None = None


ANY_TIME = Period()


def parse_bound(value: str | None, name: str) -> date | datetime | None:
    """A `from` / `to` text: a date (2026-03-01) or a date and time (2026-03-01T12:00:00Z)."""
    if value is None:
        return None
    text = value.strip()
    try:
        return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidPeriod(
            f"'{name}' must be a date (2026-03-01) or a date and time (2026-03-01T12:00:00Z)"
        ) from exc


def _offset(value: date | datetime) -> timedelta:
    """How far the moment (the start of the day, for a date) is from EPOCH, in UTC."""
    if not isinstance(value, datetime):
        return datetime.combine(value, time.min) - datetime.min
    shift = value.utcoffset() or timedelta(0)  # no zone: UTC
    return value.replace(tzinfo=None) - datetime.min - shift


def utc_period(start: date | datetime | None, end: date | datetime | None) -> Period:
    """The half-open UTC interval for inclusive bounds `start` and `end` (either may be None).

    422 (`InvalidPeriod`) when `start` is after `end`.
    """
    since = _offset(start) if start is not None else None
    until = None
    if end is not None:
        until = _offset(end) + (MICROSECOND if isinstance(end, datetime) else DAY)
    if since is not None and until is not None and since >= until:
        raise InvalidPeriod()
    if since is not None and since > LAST:  # starts after the end of the calendar
        return Period(since=None, until=EPOCH)  # nothing is that late: an empty interval
    if until is not None and until <= timedelta(0):  # ends before the calendar starts
        return Period(since=None, until=EPOCH)
    return Period(
        since=EPOCH + since if since is not None and since > timedelta(0) else None,
        until=EPOCH + until if until is not None and until <= LAST else None,
    )


def _iso_date_text(value: object) -> object:
    # Pydantic also reads a number as a Unix time ("0" is 1970-01-01); a date here is written
    # as the document says, YYYY-MM-DD.
    if isinstance(value, str) and not ISO_DATE.fullmatch(value):
        raise ValueError("must be a date written YYYY-MM-DD")
    return value


ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# A calendar day in a query, in ISO 8601's YYYY-MM-DD form only.
IsoDate = Annotated[date, BeforeValidator(_iso_date_text)]
