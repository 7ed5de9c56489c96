"""Statements: an account's postings, newest first, in keyset pages (with the account's balances
and pending card payments) or as a CSV stream."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Select, bindparam
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from app.core.db import new_session
from app.core.pagination import decode_cursor, encode_cursor, older_than
from app.core.periods import ANY_TIME, Period
from app.core.rows import PublicRows
from app.models.account import Account
from app.models.journal_entry import JournalEntry
from app.models.posting import Posting, PostingPublic
from app.schemas.statements import StatementPage
from app.services import card_payments

CSV_BATCH = 500
CSV_COLUMNS = list(PostingPublic.model_fields)
# Spreadsheets run a cell that starts with one of these as a formula.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


# A line is a posting with its journal entry's kind and description.
LINE_ROWS = PublicRows(
    PostingPublic,
    Posting,
    entry_id=col(Posting.journal_entry_id),
    kind=col(JournalEntry.kind),
    description=col(JournalEntry.description),
)


# Built once; a read adds its period and cursor, and binds the account and the page size.
_LINES = (
    LINE_ROWS.select()
    .join(JournalEntry, col(JournalEntry.id) == col(Posting.journal_entry_id))
    .where(col(Posting.account_id) == bindparam("account_id"))
    .order_by(col(Posting.created_at).desc(), col(Posting.id).desc())
    .limit(bindparam("limit"))
)


def _lines(period: Period, before: str | None) -> Select[Any]:
    conditions = []
    if period.since is not None:
        conditions.append(col(Posting.created_at) >= period.since)
    if period.until is not None:
        conditions.append(col(Posting.created_at) < period.until)
    if before:
        conditions.append(older_than(col(Posting.created_at), col(Posting.id), before))
    return _LINES.where(*conditions) if conditions else _LINES


def page(
    *,
    session: Session,
    account: Account,
    limit: int,
    before: str | None = None,
    period: Period = ANY_TIME,
) -> StatementPage:
    """A page of lines, with the account's booked and available balances and the card payments
    held on it (read only when something is held)."""
    assert account.id is not None
    rows = LINE_ROWS.read(session, _lines(period, before), account_id=account.id, limit=limit + 1)
    lines = rows[:limit]
    last = lines[-1] if len(rows) > limit else None
    return StatementPage(
        items=lines,
        next_before=encode_cursor(last.created_at, last.id) if last else None,
        balance=account.balance,
        available_balance=account.available_balance,
        pending=card_payments.pending_on_account(session=session, account_id=account.id)
        if account.held
        else [],
    )


def csv_stream(
    *,
    engine: Engine,
    account_id: int,
    before: str | None = None,
    period: Period = ANY_TIME,
) -> Iterator[str]:
    """Every line in the window as CSV (header first), read in keyset batches.

    Each batch is one short read in its own session, so a long export neither holds a
    transaction open nor grows in memory.
    """
    if before:
        decode_cursor(before)  # a malformed cursor is a 400 before anything is streamed
    return _csv_batches(engine, account_id, before, period)


def _csv_batches(
    engine: Engine, account_id: int, before: str | None, period: Period
) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    yield _drain(buffer)
    cursor = before
    while True:
        with new_session(engine) as session:
            lines = LINE_ROWS.read(
                session, _lines(period, cursor), account_id=account_id, limit=CSV_BATCH
            )
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
