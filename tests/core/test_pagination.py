"""Opaque keyset cursors, one format for every paginated list."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from app.core.pagination import decode_cursor, encode_cursor
from app.errors import MalformedCursor


def test_cursor_round_trip_in_utc() -> None:
    moment = datetime(2025, 3, 1, 10, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
    cursor = encode_cursor(moment, 42)
    assert "=" not in cursor
    assert decode_cursor(cursor) == (moment.astimezone(UTC), 42)


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "!!!",
        "YWJj",  # "abc": no separator
        "MjAyNS0wMS0wMXw3",  # "2025-01-01|7": a naive timestamp
        encode_cursor(datetime(2025, 1, 1, tzinfo=UTC), 1).replace("x", "!"),
    ],
)
def test_bad_cursors_are_malformed(cursor: str) -> None:
    with pytest.raises(MalformedCursor):
        decode_cursor(cursor)


@pytest.mark.parametrize("row_id", [0, -1, 2**63])
def test_ids_out_of_range_are_malformed(row_id: int) -> None:
    cursor = encode_cursor(datetime(2025, 1, 1, tzinfo=UTC), row_id)
    with pytest.raises(MalformedCursor):
        decode_cursor(cursor)
