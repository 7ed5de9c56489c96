"""Opaque keyset cursors, one format for every paginated list."""

import base64
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


def raw_cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "row_id",
    ["\u0661\u0662", "1_0", " 12", "12 ", "+12", "12\n", "\uff11\uff12", "0x1f", ""],
)
def test_cursor_ids_are_ascii_digits_only(row_id: str) -> None:
    # int() reads every one of these (but the empty one) as a number.
    with pytest.raises(MalformedCursor):
        decode_cursor(raw_cursor(f"2025-01-01T00:00:00+00:00|{row_id}"))


def test_a_cursor_is_only_the_characters_encode_cursor_writes() -> None:
    cursor = encode_cursor(datetime(2025, 1, 1, tzinfo=UTC), 12)
    assert decode_cursor(cursor) == (datetime(2025, 1, 1, tzinfo=UTC), 12)
    # The base64 decoder would skip what is not in its alphabet and read the same cursor.
    for tampered in (cursor[:4] + "\u0661" + cursor[4:], cursor[:4] + "." + cursor[4:]):
        with pytest.raises(MalformedCursor):
            decode_cursor(tampered)
