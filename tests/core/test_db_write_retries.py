"""Units of work: all or nothing, and bounded retries of what PostgreSQL aborts."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from app.core.db import is_retryable, run_in_write_transaction
from app.models.currency import Currency


class FakeDriverError(Exception):
    def __init__(self, sqlstate: str | None = None, pgcode: str | None = None) -> None:
        super().__init__(f"driver error {sqlstate or pgcode}")
        self.sqlstate = sqlstate
        self.pgcode = pgcode


def aborted(sqlstate: str) -> OperationalError:
    return OperationalError("UPDATE account ...", {}, FakeDriverError(sqlstate))


def test_serialization_failures_and_deadlocks_are_retryable() -> None:
    assert is_retryable(aborted("40001"))
    assert is_retryable(aborted("40P01"))
    assert is_retryable(OperationalError("x", {}, FakeDriverError(pgcode="40001")))  # psycopg2
    assert not is_retryable(aborted("23505"))
    assert not is_retryable(OperationalError("x", {}, Exception("database is locked")))


def test_an_aborted_unit_of_work_runs_again_from_scratch(session: Session) -> None:
    attempts: list[int] = []

    def work(s: Session) -> str:
        attempts.append(len(attempts))
        s.add(Currency(code=f"X{len(attempts)}Z", name="test"))
        s.flush()
        if len(attempts) < 3:
            raise aborted("40001" if len(attempts) == 1 else "40P01")
        return "done"

    assert run_in_write_transaction(session, work, retries=3) == "done"
    assert attempts == [0, 1, 2]
    codes = set(session.exec(select(Currency.code)).all())
    assert "X3Z" in codes
    assert not {"X1Z", "X2Z"} & codes  # the aborted attempts left nothing behind


def test_retries_are_bounded(session: Session) -> None:
    attempts: list[int] = []

    def work(_s: Session) -> None:
        attempts.append(1)
        raise aborted("40001")

    with pytest.raises(OperationalError):
        run_in_write_transaction(session, work, retries=2)
    assert len(attempts) == 3


def test_other_errors_are_not_retried(session: Session) -> None:
    attempts: list[int] = []

    def work(_s: Session) -> None:
        attempts.append(1)
        raise OperationalError("x", {}, FakeDriverError("08006"))  # connection failure

    with pytest.raises(OperationalError):
        run_in_write_transaction(session, work)
    assert len(attempts) == 1
