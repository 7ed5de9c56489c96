"""Retrying a unit of work that the database aborted because of a concurrent one."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from app.core.db import is_retryable, run_with_retries


class FakeDriverError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"SQLSTATE {sqlstate}")
        self.sqlstate = sqlstate


def db_error(sqlstate: str) -> OperationalError:
    return OperationalError("UPDATE account ...", {}, FakeDriverError(sqlstate))


class Flaky:
    """Fails with the given errors, in order, then returns 'done'."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"


def test_serialization_failure_and_deadlock_are_run_again() -> None:
    work = Flaky(db_error("40001"), db_error("40P01"))
    pauses: list[float] = []

    assert run_with_retries(work, attempts=3, sleep=pauses.append) == "done"

    assert work.calls == 3
    assert len(pauses) == 2
    assert 0 < pauses[0] < pauses[1]


def test_the_last_attempts_error_propagates() -> None:
    work = Flaky(db_error("40001"), db_error("40001"), db_error("40001"))

    with pytest.raises(OperationalError):
        run_with_retries(work, attempts=3, sleep=lambda _: None)
    assert work.calls == 3


@pytest.mark.parametrize(
    "error",
    [
        db_error("57P01"),  # admin shutdown: not a conflict
        IntegrityError("INSERT ...", {}, FakeDriverError("23505")),
        ValueError("a bug"),
    ],
)
def test_other_errors_are_not_retried(error: Exception) -> None:
    work = Flaky(error)

    with pytest.raises(type(error)):
        run_with_retries(work, sleep=lambda _: None)
    assert work.calls == 1


def test_psycopg2_style_pgcode_is_understood() -> None:
    orig = Exception("deadlock")
    orig.pgcode = "40P01"  # type: ignore[attr-defined]
    assert is_retryable(OperationalError("...", {}, orig))
    assert not is_retryable(RuntimeError("40001"))


def test_attempts_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        run_with_retries(Flaky(), attempts=0)


@pytest.mark.postgres_only
def test_a_real_serialization_failure_is_recognised(engine: Engine) -> None:
    """Two REPEATABLE READ transactions update one row: PostgreSQL aborts the second with 40001,
    and the retry (a new transaction) sees the first one's write and succeeds."""
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE retry_probe (id int PRIMARY KEY, n int)"))
        connection.execute(text("INSERT INTO retry_probe VALUES (1, 0)"))
    attempts = 0

    def increment() -> int:
        nonlocal attempts
        attempts += 1
        with engine.connect() as mine:
            mine = mine.execution_options(isolation_level="REPEATABLE READ")
            with mine.begin():
                seen = mine.execute(text("SELECT n FROM retry_probe WHERE id = 1")).scalar_one()
                if attempts == 1:  # someone else commits in between
                    with engine.begin() as other:
                        other.execute(text("UPDATE retry_probe SET n = n + 100 WHERE id = 1"))
                mine.execute(text("UPDATE retry_probe SET n = :n WHERE id = 1"), {"n": seen + 1})
        return int(seen) + 1

    try:
        assert run_with_retries(increment, sleep=lambda _: None) == 101
        assert attempts == 2
    finally:
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE retry_probe"))
