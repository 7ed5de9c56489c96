"""The ledger service: entry rules, database constraints, bulk openings, injected failures."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, insert, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlmodel import Session, col, select

from app.core.config import Settings
from app.core.db import new_session, write_transaction
from app.errors import InsufficientFunds
from app.models.account import Account
from app.models.funding_account import FundingAccount
from app.models.journal_entry import EntryKind, JournalEntry
from app.models.portfolio_transaction import PortfolioTransaction
from app.models.posting import Posting
from app.services import ledger
from tests.utils.auth import AuthedUser
from tests.utils.money import assert_ledger_consistent, balance_of, deposit, transfer_body


def account(session: Session, iban: str) -> Account:
    return session.exec(select(Account).where(col(Account.iban) == iban)).one()


def written_postings(engine: Engine) -> list[Posting]:
    """Every posting, in the order written (debits first in each entry)."""
    with new_session(engine) as session:
        return list(session.exec(select(Posting).order_by(col(Posting.id))).all())


def count(session: Session, model: type[Any]) -> int:
    return len(session.exec(select(model)).all())


# --- entry rules -----------------------------------------------------------------------------


def record(session: Session, kind: EntryKind, legs: Callable[[Session], list[ledger.Leg]]) -> None:
    """Record an entry whose legs are built inside one unit of work."""
    with write_transaction(session):
        ledger.record_entry(session=session, kind=kind, description="", legs=legs(session))


@pytest.mark.parametrize(
    ("amounts", "message"),
    [
        ([Decimal("5.00")], "at least two postings"),
        ([Decimal("5.00"), Decimal("-4.99")], "does not balance"),
        ([Decimal("0.00"), Decimal("0.00")], "zero or not whole cents"),
        ([Decimal("0.005"), Decimal("-0.005")], "zero or not whole cents"),
    ],
)
def test_entries_that_break_the_rules_are_refused(
    session: Session,
    customer: AuthedUser,
    other_customer: AuthedUser,
    amounts: list[Decimal],
    message: str,
) -> None:
    def legs(s: Session) -> list[ledger.Leg]:
        holders = [account(s, customer.iban), account(s, other_customer.iban)]
        return [ledger.Leg(a, account=h) for a, h in zip(amounts, holders, strict=False)]

    with pytest.raises(ledger.LedgerInvariantError, match=message):
        record(session, EntryKind.transfer, legs)
    assert count(session, JournalEntry) == 0


def test_sum_is_checked_per_currency(session: Session) -> None:
    def legs(s: Session) -> list[ledger.Leg]:
        return [
            ledger.Leg(Decimal("-1.00"), funding=ledger.funding_account(session=s, currency="EUR")),
            ledger.Leg(Decimal("1.00"), funding=ledger.funding_account(session=s, currency="USD")),
        ]

    with pytest.raises(ledger.LedgerInvariantError, match="does not balance"):
        record(session, EntryKind.deposit, legs)


def test_a_leg_needs_exactly_one_ledger_account(session: Session, customer: AuthedUser) -> None:
    with write_transaction(session):
        fund = ledger.funding_account(session=session, currency="EUR")
        mine = account(session, customer.iban)
    for leg in (
        ledger.Leg(Decimal("1.00")),
        ledger.Leg(Decimal("1.00"), account=mine, funding=fund),
    ):
        with pytest.raises(ledger.LedgerInvariantError, match="exactly one"):
            ledger.check_balanced([leg, ledger.Leg(Decimal("-1.00"), funding=fund)])


def test_record_entry_moves_balances_and_records_them(
    engine: Engine, session: Session, customer: AuthedUser
) -> None:
    with write_transaction(session):
        fund = ledger.funding_account(session=session, currency="EUR")
        mine = account(session, customer.iban)
        entry = ledger.record_entry(
            session=session,
            kind=EntryKind.deposit,
            description="seed",
            legs=[
                ledger.Leg(Decimal("-12.50"), funding=fund),
                ledger.Leg(Decimal("12.50"), account=mine),
            ],
        )
    postings = written_postings(engine)
    assert [p.balance_after for p in postings] == [Decimal("-12.50"), Decimal("12.50")]
    assert {p.journal_entry_id for p in postings} == {entry.id}
    assert {p.created_at for p in postings} == {entry.created_at}
    assert mine.balance == Decimal("12.50")
    assert fund.name == "OpenBank sandbox funding"
    assert assert_ledger_consistent(engine).entries == 1


def test_insufficient_funds_rolls_back_the_whole_entry(
    engine: Engine, session: Session, customer: AuthedUser, other_customer: AuthedUser
) -> None:
    def legs(s: Session) -> list[ledger.Leg]:
        return [  # the credit first: the debit still fails, and nothing is written
            ledger.Leg(Decimal("1.00"), account=account(s, other_customer.iban)),
            ledger.Leg(Decimal("-1.00"), account=account(s, customer.iban)),
        ]

    with pytest.raises(InsufficientFunds):
        record(session, EntryKind.transfer, legs)
    with new_session(engine) as fresh:
        assert count(fresh, Posting) == count(fresh, JournalEntry) == 0
        assert account(fresh, other_customer.iban).balance == 0


def test_record_entries_writes_a_batch_in_order(
    engine: Engine, session: Session, customer: AuthedUser, other_customer: AuthedUser
) -> None:
    with write_transaction(session):
        fund = ledger.funding_account(session=session, currency="EUR")
        mine, theirs = account(session, customer.iban), account(session, other_customer.iban)
        recorded = ledger.record_entries(
            session=session,
            entries=[
                ledger.Entry(
                    EntryKind.deposit,
                    "in",
                    [
                        ledger.Leg(Decimal("-10.00"), funding=fund),
                        ledger.Leg(Decimal("10.00"), account=mine),
                    ],
                ),
                # Spends what the entry before it brought in: balances count the batch so far.
                ledger.Entry(
                    EntryKind.transfer,
                    "on",
                    [
                        ledger.Leg(Decimal("-7.50"), account=mine),
                        ledger.Leg(Decimal("7.50"), account=theirs),
                    ],
                ),
            ],
        )
    assert [entry.description for entry in recorded] == ["in", "on"]
    assert recorded[0].id < recorded[1].id
    postings = written_postings(engine)
    assert [
        [p.balance_after for p in postings if p.journal_entry_id == e.id] for e in recorded
    ] == [
        [Decimal("-10.00"), Decimal("10.00")],
        [Decimal("2.50"), Decimal("7.50")],
    ]
    assert (mine.balance, theirs.balance, fund.balance) == (
        Decimal("2.50"),
        Decimal("7.50"),
        Decimal("-10.00"),
    )
    totals = assert_ledger_consistent(engine)
    assert totals.entries_by_kind == {"deposit": 1, "transfer": 1}
    with new_session(engine) as fresh:
        # Every posting on a customer account is also a portfolio transaction.
        mirrored = fresh.exec(select(PortfolioTransaction.amount)).all()
    assert sorted(mirrored) == [Decimal("-7.50"), Decimal("7.50"), Decimal("10.00")]


def test_a_batch_that_overdraws_writes_nothing(
    engine: Engine, session: Session, customer: AuthedUser, other_customer: AuthedUser
) -> None:
    def overdraw() -> None:
        with write_transaction(session):
            fund = ledger.funding_account(session=session, currency="EUR")
            mine, theirs = account(session, customer.iban), account(session, other_customer.iban)
            in_, out = Decimal("3.00"), Decimal("4.00")
            ledger.record_entries(
                session=session,
                entries=[
                    ledger.Entry(
                        EntryKind.deposit,
                        "in",
                        [ledger.Leg(-in_, funding=fund), ledger.Leg(in_, account=mine)],
                    ),
                    ledger.Entry(
                        EntryKind.transfer,
                        "too much",
                        [ledger.Leg(-out, account=mine), ledger.Leg(out, account=theirs)],
                    ),
                ],
            )

    with pytest.raises(InsufficientFunds, match=r"balance 3\.00 EUR, needed 4\.00 EUR"):
        overdraw()
    assert ledger.record_entries(session=session, entries=[]) == []
    assert assert_ledger_consistent(engine).entries == 0
    with new_session(engine) as fresh:
        assert account(fresh, customer.iban).balance == 0
        assert count(fresh, PortfolioTransaction) == 0


def test_funding_account_is_created_once_per_currency(session: Session) -> None:
    with write_transaction(session):
        first = ledger.funding_account(session=session, currency="USD")
        again = ledger.funding_account(session=session, currency="USD")
    assert first.id == again.id
    assert count(session, FundingAccount) == 1


def test_funding_account_survives_a_concurrent_creation(
    session: Session, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The row another unit of work inserted first (PostgreSQL race) is the one returned."""
    with write_transaction(session):
        original = ledger.funding_account(session=session, currency="GBP")
    real_exec = Session.exec
    calls = {"n": 0}

    def first_lookup_misses(self: Session, statement: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            return real_exec(self, statement.where(text("1 = 0")), **kwargs)
        return real_exec(self, statement, **kwargs)

    with new_session(engine) as other, write_transaction(other):
        monkeypatch.setattr(Session, "exec", first_lookup_misses)
        found = ledger.funding_account(session=other, currency="GBP")
        monkeypatch.setattr(Session, "exec", real_exec)
    assert found.id == original.id


# --- constraints in the database --------------------------------------------------------------


def test_database_refuses_a_negative_customer_balance(
    session: Session, customer: AuthedUser
) -> None:
    with pytest.raises(IntegrityError), write_transaction(session):
        session.execute(
            update(Account)
            .where(col(Account.iban) == customer.iban)
            .values(balance=Decimal("-0.01"))
        )


def test_funding_balance_may_be_negative(session: Session) -> None:
    with write_transaction(session):
        fund = ledger.funding_account(session=session, currency="EUR")
        fund.balance = Decimal("-100.00")
        session.add(fund)
    assert fund.balance == Decimal("-100.00")


@pytest.mark.parametrize(
    "posting",
    [
        # Both ledger accounts at once. (Neither is a posting on a closed account, allowed in
        # the database; the ledger service refuses to write such a leg.)
        {"account": True, "funding": True, "amount": "1.00", "balance_after": "1.00"},
        {"account": True, "funding": False, "amount": "0.00", "balance_after": "0.00"},
        {"account": True, "funding": False, "amount": "-1.00", "balance_after": "-1.00"},
    ],
)
def test_database_checks_postings(
    session: Session, customer: AuthedUser, posting: dict[str, Any]
) -> None:
    with write_transaction(session):
        fund = ledger.funding_account(session=session, currency="EUR")
        entry = JournalEntry(kind=EntryKind.deposit)
        session.add(entry)
        session.flush()
        ids = (entry.id, account(session, customer.iban).id, fund.id)
    with pytest.raises(IntegrityError), write_transaction(session):
        session.execute(
            insert(Posting).values(
                journal_entry_id=ids[0],
                account_id=ids[1] if posting["account"] else None,
                funding_account_id=ids[2] if posting["funding"] else None,
                amount=Decimal(posting["amount"]),
                currency="EUR",
                balance_after=Decimal(posting["balance_after"]),
            )
        )


def test_database_checks_entry_kind(session: Session) -> None:
    # A CHECK constraint on SQLite; PostgreSQL's native enum type refuses it first.
    with pytest.raises((IntegrityError, DataError)), write_transaction(session):
        session.execute(insert(JournalEntry).values(kind="gift", description=""))


# --- entries kept out of the portfolio's history (seeding) ----------------------------------


def test_an_entry_that_is_not_mirrored_moves_money_but_not_the_portfolio_history(
    client: TestClient,
    engine: Engine,
    session: Session,
    customer: AuthedUser,
    admin_headers: dict[str, str],
) -> None:
    deposit(client, admin_headers, customer.iban, "1.00")
    with write_transaction(session):
        locked = ledger.lock_accounts(session=session, ibans=[customer.iban])[customer.iban]
        fund = ledger.funding_account(session=session, currency="EUR")
        legs = [
            ledger.Leg(Decimal("-10.00"), funding=fund, counterparty_iban=customer.iban),
            ledger.Leg(Decimal("10.00"), account=locked.account, counterparty_name=fund.name),
        ]
        ledger.record_entries(
            session=session,
            entries=[
                ledger.Entry(EntryKind.deposit, "Opening balance", legs, mirrored=False),
                ledger.Entry(EntryKind.deposit, "Mirrored", legs),
            ],
        )

    assert balance_of(client, customer.headers, customer.iban) == "21.00"
    assert assert_ledger_consistent(engine).entries_by_kind == {"deposit": 3}
    statement = client.get(f"/accounts/{customer.iban}/transactions", headers=customer.headers)
    assert [line["description"] for line in statement.json()["items"]] == [
        "Mirrored",
        "Opening balance",
        "Sandbox top-up",
    ]
    history = client.get(
        f"/user-portfolio/{customer.customer_oid}/transactions", headers=customer.headers
    ).json()["transactions"]
    assert sorted(t["description"] for t in history) == ["Mirrored", "Sandbox top-up"]


# --- a failure after the postings are written, before the balances move ----------------------


def fail_after_postings(
    monkeypatch: pytest.MonkeyPatch, error: Callable[[], Exception]
) -> dict[str, int]:
    """Make the ledger write the journal entry and its postings, then fail before the
    balances move."""
    calls = {"n": 0}

    def flaky(session: Session, balances: object) -> None:
        calls["n"] += 1
        # The entry and both postings are already in the database, inside the open transaction.
        latest = session.exec(select(func.max(col(JournalEntry.id)))).one()
        written = session.exec(select(Posting).where(col(Posting.journal_entry_id) == latest))
        assert len(written.all()) == 2
        raise error()

    monkeypatch.setattr(ledger, "_move_balances", flaky)
    return calls


def assert_untouched(engine: Engine, balances: dict[str, Decimal], entries: int) -> None:
    with new_session(engine) as session:
        for iban, balance in balances.items():
            assert account(session, iban).balance == balance
        assert count(session, JournalEntry) == entries
        assert count(session, Posting) == 2 * entries
    assert assert_ledger_consistent(engine).entries == entries


def test_crash_after_the_postings_leaves_no_partial_entry(
    app: FastAPI,
    engine: Engine,
    customer: AuthedUser,
    other_customer: AuthedUser,
    admin_headers: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with TestClient(app, raise_server_exceptions=False) as client:
        deposit(client, admin_headers, customer.iban, "50.00")
        calls = fail_after_postings(monkeypatch, lambda: RuntimeError("injected crash"))

        response = client.post(
            "/transfers",
            json=transfer_body(customer.iban, other_customer.iban, "20.00"),
            headers=customer.headers | {"Idempotency-Key": "crash-1"},
        )

        assert calls["n"] == 1
        assert response.status_code == 500
        assert response.json() == {"detail": "Internal server error"}
        assert_untouched(
            engine, {customer.iban: Decimal("50.00"), other_customer.iban: Decimal("0.00")}, 1
        )

        # The key was not used up: once the fault is gone, the retry moves the money once.
        monkeypatch.undo()
        retried = client.post(
            "/transfers",
            json=transfer_body(customer.iban, other_customer.iban, "20.00"),
            headers=customer.headers | {"Idempotency-Key": "crash-1"},
        )
        assert retried.status_code == 201
        assert balance_of(client, customer.headers, customer.iban) == "30.00"


def test_database_error_after_the_postings_is_503_and_rolled_back(
    client: TestClient,
    engine: Engine,
    customer: AuthedUser,
    admin_headers: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    deposit(client, admin_headers, customer.iban, "50.00")
    fail_after_postings(
        monkeypatch, lambda: OperationalError("UPDATE", {}, Exception("disk I/O error"))
    )

    response = client.post(
        f"/admin/accounts/{customer.iban}/withdraw", json={"amount": "5.00"}, headers=admin_headers
    )

    assert response.status_code == 503
    assert response.json() == {"detail": "Database unavailable, try again later"}
    assert_untouched(engine, {customer.iban: Decimal("50.00")}, 1)


CRASHING_WORKER = textwrap.dedent(
    """
    import os, sys
    from decimal import Decimal
    from sqlmodel import select
    from app.core.config import Settings
    from app.core.db import create_db_engine, new_session, write_transaction
    from app.models.journal_entry import EntryKind
    from app.models.posting import Posting
    from app.services import ledger

    real = ledger._insert_postings
    def die_after_postings(session, planned, entry_ids):
        real(session, planned, entry_ids)
        written = session.exec(select(Posting).where(Posting.journal_entry_id == entry_ids[0]))
        print(f"postings written before the crash: {len(written.all())}", flush=True)
        os._exit(17)  # the process dies before the balances move

    ledger._insert_postings = die_after_postings
    settings = Settings(_env_file=None, database_url=sys.argv[1], secret_key="x" * 40)
    engine = create_db_engine(settings)
    with new_session(engine) as session, write_transaction(session):
        accounts = ledger.lock_accounts(session=session, ibans=sys.argv[2:4])
        src, dst = accounts[sys.argv[2]], accounts[sys.argv[3]]
        ledger.record_entry(
            session=session,
            kind=EntryKind.transfer,
            description="never",
            legs=[
                ledger.Leg(Decimal("-5.00"), account=src.account),
                ledger.Leg(Decimal("5.00"), account=dst.account),
            ],
        )
    """
)


def test_process_killed_before_the_balances_move_leaves_no_trace(
    client: TestClient,
    engine: Engine,
    settings: Settings,
    customer: AuthedUser,
    other_customer: AuthedUser,
    admin_headers: dict[str, str],
) -> None:
    deposit(client, admin_headers, customer.iban, "50.00")
    root = Path(__file__).resolve().parents[2]

    worker = subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [
            sys.executable,
            "-c",
            CRASHING_WORKER,
            settings.database_url,
            customer.iban,
            other_customer.iban,
        ],
        cwd=root,
        env=os.environ | {"PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert worker.returncode == 17, worker.stderr
    assert worker.stdout.strip() == "postings written before the crash: 2"
    assert_untouched(
        engine, {customer.iban: Decimal("50.00"), other_customer.iban: Decimal("0.00")}, 1
    )
    # And the database is writable again: the dead process's lock is gone.
    assert (
        client.post(
            "/transfers",
            json=transfer_body(customer.iban, other_customer.iban, "5.00"),
            headers=customer.headers,
        ).status_code
        == 201
    )


def test_seeded_balances_come_from_the_ledger(engine: Engine, settings: Settings) -> None:
    import seed

    report = seed.main(["--customers", "10", "--seed", "3", "--bcrypt-rounds", "4"], settings)
    again = seed.main(["--customers", "10", "--seed", "3", "--bcrypt-rounds", "4"], settings)

    totals = assert_ledger_consistent(engine)  # every balance == the sum of its postings
    assert report.customers_created == again.customers_skipped == 10
    assert again.customers_created == 0
    # Opening balances, then a year of lives: income, bills and card payments, all entries.
    assert set(totals.entries_by_kind) == {"deposit", "income", "payment", "card_payment"}
    with new_session(engine) as session:
        openings = session.exec(
            select(Posting.account_id, JournalEntry.description)
            .join(JournalEntry, col(JournalEntry.id) == col(Posting.journal_entry_id))
            .where(
                col(JournalEntry.kind) == EntryKind.deposit, col(Posting.account_id).is_not(None)
            )
        ).all()
    assert {description for _, description in openings} == {"Opening balance"}
    assert len(openings) == len({account_id for account_id, _ in openings})  # one each
    assert all(total > 0 for total in totals.customer_balances.values())
