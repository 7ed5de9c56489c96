from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from app.core.clock import UTCDateTime, utcnow

SQLITE = sqlite.dialect()
POSTGRES = postgresql.dialect()
CET = timezone(timedelta(hours=1))


def test_utcnow_is_aware_utc() -> None:
    before = datetime.now(UTC)
    now = utcnow()
    after = datetime.now(UTC)
    assert now.tzinfo is UTC
    assert before <= now <= after


def test_sqlite_stores_naive_utc() -> None:
    stored = UTCDateTime().process_bind_param(datetime(2026, 1, 1, 13, 0, tzinfo=CET), SQLITE)
    assert stored == datetime(2026, 1, 1, 12, 0)
    assert stored.tzinfo is None


def test_naive_input_is_taken_as_utc() -> None:
    stored = UTCDateTime().process_bind_param(datetime(2026, 1, 1, 12, 0), POSTGRES)
    assert stored == datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert stored.tzinfo is not None


def test_postgres_keeps_the_zone_as_utc() -> None:
    stored = UTCDateTime().process_bind_param(datetime(2026, 1, 1, 13, 0, tzinfo=CET), POSTGRES)
    assert stored is not None
    assert stored.utcoffset() == timedelta(0)
    assert stored == datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "dialect"),
    [
        (datetime(2026, 1, 1, 12, 0), SQLITE),
        (datetime(2026, 1, 1, 13, 0, tzinfo=CET), POSTGRES),
        (datetime(2026, 1, 1, 12, 0, tzinfo=UTC), POSTGRES),
    ],
)
def test_results_come_back_aware_in_utc(raw: datetime, dialect: object) -> None:
    value = UTCDateTime().process_result_value(raw, dialect)  # type: ignore[arg-type]
    assert value == datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert value is not None
    assert value.utcoffset() == timedelta(0)


def test_none_passes_through() -> None:
    assert UTCDateTime().process_bind_param(None, SQLITE) is None
    assert UTCDateTime().process_result_value(None, SQLITE) is None
