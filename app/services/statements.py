"""Statements: an account's postings, newest first, in keyset pages or as a CSV stream."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select

from app.core.db import new_session
from app.core.pagination import decode_cursor, encode_cursor, older_than
from app.errors import InvalidPeriod
from app.models.journal_entry import JournalEntry
from app.models.posting import Posting, PostingPublic
from app.schemas.pagination import Page

CSV_BATCH = 500
CSV_COLUMNS = list(PostingPublic.model_fields)
# Spreadsheets run a cell that starts with one of these as a formula.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def period(start: str | None, end: str | None) -> tuple[datetime | None, datetime | None]:
    """The half-open UTC interval `[since, until)` for the `from` and `to` filters.

    Each is a date (`2026-03-01`) or a date and time (`2026-03-01T12:00:00Z`). Both ends are
    inclusive for the caller: a date `to` means up to the end of that day. Times without a zone
    are taken as UTC.
    """
    first = _bound(start, "from")
    last = _bound(end, "to")
    try:
        since = _moment(first) if first is not None else None
        until = _moment(last) if last is not None else None
    except OverflowError as exc:
        raise InvalidPeriod("'from' or 'to' is out of range") from exc
    if until is not None:
        step = timedelta(microseconds=1) if isinstance(last, datetime) else timedelta(days=1)
        # The very end of the calendar: no upper bound.
        until = until + step if until <= datetime.max.replace(tzinfo=UTC) - step else None
    if since is not None and until is not None and since >= until:
        raise InvalidPeriod()
    return since, until


def _bound(value: str | None, name: str) -> date | datetime | None:
    if value is None:
        return None
    text = value.strip()
    try:
        return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidPeriod(
            f"'{name}' must be a date (2026-03-01) or a date and time (2026-03-01T12:00:00Z)"
        ) from exc


def _moment(value: date | datetime) -> datetime:
    if not isinstance(value, datetime):
        return datetime.combine(value, time.min, tzinfo=UTC)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _lines(
    account_id: int, since: datetime | None, until: datetime | None, before: str | None
) -> Select[Posting, str, str]:
    statement = (
        select(Posting, JournalEntry.kind, JournalEntry.description)
        .join(JournalEntry, col(JournalEntry.id) == col(Posting.journal_entry_id))
        .where(col(Posting.account_id) == account_id)
    )
    if since is not None:
        statement = statement.where(col(Posting.created_at) >= since)
    if until is not None:
        statement = statement.where(col(Posting.created_at) < until)
    if before:
        statement = statement.where(older_than(col(Posting.created_at), col(Posting.id), before))
    return statement.order_by(col(Posting.created_at).desc(), col(Posting.id).desc())


def _line(row: Any) -> PostingPublic:
    posting, kind, description = row
    return PostingPublic.model_validate(
        posting,
        update={"entry_id": posting.journal_entry_id, "kind": kind, "description": description},
    )


def page(
    *,
    session: Session,
    account_id: int,
    limit: int,
    before: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Page[PostingPublic]:
    rows = session.exec(_lines(account_id, since, until, before).limit(limit + 1)).all()
    lines = [_line(row) for row in rows[:limit]]
    last = lines[-1] if len(rows) > limit else None
    return Page[PostingPublic](
        items=lines, next_before=encode_cursor(last.created_at, last.id) if last else None
    )


def csv_stream(
    *,
    engine: Engine,
    account_id: int,
    before: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Iterator[str]:
    """Every line in the window as CSV (header first), read in keyset batches.

    Each batch is one short read in its own session, so a long export neither holds a
    transaction open nor grows in memory.
    """
    if before:
        decode_cursor(before)  # a malformed cursor is a 400 before anything is streamed
    return _csv_batches(engine, account_id, before, since, until)


def _csv_batches(
    engine: Engine,
    account_id: int,
    before: str | None,
    since: datetime | None,
    until: datetime | None,
) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    yield _drain(buffer)
    cursor = before
    while True:
        with new_session(engine) as session:
            rows = session.exec(_lines(account_id, since, until, cursor).limit(CSV_BATCH)).all()
        lines = [_line(row) for row in rows]
        for line in lines:
            writer.writerow(_csv_cells(line))
        if lines:
            yield _drain(buffer)
        if len(lines) < CSV_BATCH:
            return
        cursor = encode_cursor(lines[-1].created_at, lines[-1].id)


def _csv_cells(line: PostingPublic) -> list[str]:
    values = line.model_dump(mode="json")
    cells = []
    for column in CSV_COLUMNS:
        value = values[column]
        text = "" if value is None else str(value)
        if column in ("description", "counterparty_name") and text.startswith(_FORMULA_PREFIXES):
            text = "'" + text
        cells.append(text)
    return cells


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
