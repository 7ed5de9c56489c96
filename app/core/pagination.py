"""Keyset pagination over `(timestamp, id)`, newest first, with opaque cursors: base64url of
"<ISO timestamp>|<id>", without padding."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import tuple_
from sqlalchemy.sql.elements import ColumnElement

from app.errors import MalformedCursor

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_ID = 2**63  # ids are 64-bit integers in the database
# The largest OFFSET the databases take (a signed 64-bit integer); a larger one is 422, not a
# driver overflow.
MAX_OFFSET = 2**63 - 1


_CURSOR = re.compile(r"[A-Za-z0-9_-]+")
_ID = re.compile(r"[0-9]{1,19}")


def encode_cursor(created_at: datetime, row_id: int) -> str:
    raw = f"{created_at.astimezone(UTC).isoformat()}|{row_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    # Only the alphabet encode_cursor writes: the decoder would skip other characters, and int()
    # would read digits of any script and "1_0".
    if not _CURSOR.fullmatch(cursor):
        raise MalformedCursor()
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created, _, row_id = base64.urlsafe_b64decode(padded.encode()).decode().partition("|")
        moment = datetime.fromisoformat(created)
        if not _ID.fullmatch(row_id):
            raise ValueError("the id is not in ASCII digits")
        number = int(row_id)
        if moment.tzinfo is None or not 0 < number < MAX_ID:
            raise ValueError("naive timestamp or id out of range")
        return moment, number
    except (ValueError, binascii.Error, UnicodeError) as exc:
        raise MalformedCursor() from exc


def older_than(created_col: Any, id_col: Any, cursor: str) -> ColumnElement[bool]:
    """Rows after the cursor in newest-first order.

    A row-value comparison, so an index on (..., created, id) seeks straight to the cursor: the
    equivalent OR of the two columns makes SQLite walk every newer row first.
    """
    created_at, row_id = decode_cursor(cursor)
    return tuple_(created_col, id_col) < tuple_(created_at, row_id)
