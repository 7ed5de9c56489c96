"""insert_rows: a batch of rows in one statement, numbered in the rows' order, on SQLite (the
driver's executemany, each value through its column type) and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from app.core.db import insert_rows, new_session, table_of, write_transaction
from app.models.journal_entry import EntryKind, JournalEntry

ENTRIES = table_of(JournalEntry)
MOMENT = datetime(2031, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)


def entries(engine: Engine) -> list[JournalEntry]:
    with new_session(engine) as session:
        return list(session.exec(select(JournalEntry).order_by(col(JournalEntry.id))).all())


def test_numbered_rows_get_ids_in_their_order_and_read_back_as_written(engine: Engine) -> None:
    before = len(entries(engine))
    rows = [
        {"kind": EntryKind.deposit, "description": f"row {n}", "created_at": MOMENT + timedelta(n)}
        for n in range(3)
    ] + [{"kind": EntryKind.transfer, "description": "a moment in another zone",
          "created_at": MOMENT.astimezone(UTC).replace(tzinfo=None)}]  # fmt: skip
    with new_session(engine) as session, write_transaction(session):
        ids = insert_rows(session, ENTRIES, rows, numbered=True)
        more = insert_rows(session, ENTRIES, rows[:1], numbered=True)
    assert ids == sorted(ids)
    assert len(set(ids)) == 4
    assert more[0] > ids[-1]
    written = {entry.id: entry for entry in entries(engine)}
    assert len(written) == before + 5
    assert [(written[i].kind, written[i].description, written[i].created_at) for i in ids] == [
        (EntryKind.deposit, "row 0", MOMENT),
        (EntryKind.deposit, "row 1", MOMENT + timedelta(1)),
        (EntryKind.deposit, "row 2", MOMENT + timedelta(2)),
        (EntryKind.transfer, "a moment in another zone", MOMENT),  # naive is taken as UTC
    ]


def test_a_column_left_out_takes_its_constant_default(engine: Engine) -> None:
    with new_session(engine) as session, write_transaction(session):
        assert insert_rows(session, ENTRIES, [{"kind": "deposit", "created_at": MOMENT}]) == []
    assert [(e.description, e.created_at) for e in entries(engine)][-1:] == [("", MOMENT)]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            [
                {"kind": "deposit", "created_at": MOMENT},
                {"kind": "deposit", "created_at": MOMENT, "description": "more keys"},
            ],
            "different keys",
        ),
        ([{"kind": "deposit", "description": "no moment"}], "must give created_at"),
    ],
)
def test_rows_that_do_not_fit_are_refused_before_anything_is_written(
    engine: Engine, rows: list[dict[str, object]], message: str
) -> None:
    before = len(entries(engine))
    with (
        pytest.raises(ValueError, match=message),
        new_session(engine) as session,
        write_transaction(session),
    ):
        insert_rows(session, ENTRIES, rows, numbered=True)
    assert len(entries(engine)) == before


def test_no_rows_write_nothing(engine: Engine) -> None:
    with new_session(engine) as session, write_transaction(session):
        assert insert_rows(session, ENTRIES, [], numbered=True) == []
    assert entries(engine) == []
