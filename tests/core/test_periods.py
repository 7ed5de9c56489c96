"""Date ranges: inclusive `from` / `to` bounds as a half-open UTC interval, at any date."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from app.core.periods import ANY_TIME, Period, parse_bound, utc_period
from app.errors import InvalidPeriod

FIRST = datetime.min.replace(tzinfo=UTC)
NOTHING = Period(since=None, until=FIRST)  # no moment is before the first one


def test_no_bounds_is_any_time() -> None:
    assert utc_period(None, None) == ANY_TIME == Period(None, None)


def test_dates_cover_whole_days() -> None:
    assert utc_period(date(2026, 3, 1), date(2026, 3, 31)) == Period(
        datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
    )
    assert utc_period(date(2026, 3, 1), date(2026, 3, 1)).until == datetime(2026, 3, 2, tzinfo=UTC)


def test_date_times_are_taken_in_utc_and_include_the_end() -> None:
    plus_two = timezone(timedelta(hours=2))
    period = utc_period(datetime(2026, 3, 1, 12, tzinfo=plus_two), datetime(2026, 3, 1, 13))
    assert period.since == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert period.until == datetime(2026, 3, 1, 13, 0, 0, 1, tzinfo=UTC)
    assert period.since is not None
    assert period.since.utcoffset() == timedelta(0)


def test_the_same_moment_twice_is_a_valid_period() -> None:
    moment = datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert utc_period(moment, moment) == Period(moment, moment + timedelta(microseconds=1))


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2026, 3, 2), date(2026, 3, 1)),
        (datetime(2026, 3, 1, 12, 0, 1, tzinfo=UTC), datetime(2026, 3, 1, 12, tzinfo=UTC)),
        (date(9999, 12, 31), date(1, 1, 1)),
        (datetime(2026, 3, 2, 0, 30, tzinfo=timezone(timedelta(hours=-1))), date(2026, 3, 1)),
    ],
)
def test_start_after_end_is_422(start: date, end: date) -> None:
    with pytest.raises(InvalidPeriod, match="'from' must not be after 'to'"):
        utc_period(start, end)


def test_a_zone_can_put_the_start_on_the_previous_day_in_utc() -> None:
    start = datetime(2026, 3, 2, 0, 30, tzinfo=timezone(timedelta(hours=1)))  # 23:30 UTC
    assert utc_period(start, date(2026, 3, 1)) == Period(
        datetime(2026, 3, 1, 23, 30, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC)
    )


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # The end of the calendar: no upper bound (the day after 9999-12-31 does not exist).
        (None, date(9999, 12, 31), ANY_TIME),
        (None, datetime(9999, 12, 31, 23, 59, 59, 999999), ANY_TIME),
        (None, datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5))), ANY_TIME),
        (date(1, 1, 1), date(9999, 12, 31), ANY_TIME),
        # Before the calendar's first moment in UTC: no lower bound.
        (datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))), None, ANY_TIME),
        # A start after the calendar's end, an end before its start: nothing is in them.
        (datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5))), None, NOTHING),
        (None, datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))), NOTHING),
        # The last day: from its start, with no upper bound.
        (
            date(9999, 12, 31),
            date(9999, 12, 31),
            Period(datetime(9999, 12, 31, tzinfo=UTC), None),
        ),
        (None, date(1, 1, 1), Period(None, datetime(1, 1, 2, tzinfo=UTC))),
    ],
)
def test_the_edges_of_the_calendar_have_an_answer(
    start: date | None, end: date | None, expected: Period
) -> None:
    assert utc_period(start, end) == expected


def test_parse_bound_takes_a_date_or_a_date_time() -> None:
    assert parse_bound(None, "from") is None
    assert parse_bound(" 2026-03-01 ", "from") == date(2026, 3, 1)
    assert parse_bound("2026-03-01T12:00:00Z", "to") == datetime(2026, 3, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize("text", ["yesterday", "2026-13-01", "10000-01-01", "٢٠٢٦-03-01", ""])
def test_parse_bound_refuses_anything_else(text: str) -> None:
    with pytest.raises(InvalidPeriod, match="'to' must be a date"):
        parse_bound(text, "to")
