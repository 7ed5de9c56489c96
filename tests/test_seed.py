"""seed.py: document 002's customers, deterministic Faker customers, consistent rows."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session, SQLModel, col, select

import seed
from app.core.config import Settings
from app.core.db import create_db_engine, new_session
from app.main import create_app
from app.models.account import Account
from app.models.card_payment import CardPayment, CardPaymentStatus
from app.models.customer import Customer
from app.models.persona import Persona
from app.models.portfolio_transaction import PortfolioTransaction
from app.models.posting import Posting
from app.models.spending import Spending
from tests.utils.auth import logon_headers
from tests.utils.databases import TEST_SECRET
from tests.utils.money import assert_ledger_consistent

JOHN = "550e8400-e29b-41d4-a716-446655440001"


def settings_for(path: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        database_url=f"sqlite:///{path}",
        secret_key=TEST_SECRET,
        bcrypt_rounds=4,
    )


def run_seed(path: Path, *args: str) -> seed.SeedReport:
    return seed.main(["--bcrypt-rounds", "4", *args], settings=settings_for(path))


def dump(path: Path) -> dict[str, list[Any]]:
    engine = create_db_engine(settings_for(path))
    try:
        with engine.connect() as connection:
            return {
                name: connection.execute(text(f'SELECT * FROM "{name}" ORDER BY 1, 2')).all()
                for name in SQLModel.metadata.tables
            }
    finally:
        engine.dispose()


@pytest.fixture
def seeded(tmp_path: Path) -> Path:
    path = tmp_path / "seeded.db"
    run_seed(path, "--reset", "--customers", "4", "--seed", "7")
    return path


def test_the_same_seed_gives_the_same_bytes(tmp_path: Path) -> None:
    first, second, other = tmp_path / "a.db", tmp_path / "b.db", tmp_path / "c.db"
    run_seed(first, "--customers", "3", "--seed", "11")
    run_seed(second, "--customers", "3", "--seed", "11")
    run_seed(other, "--customers", "3", "--seed", "12")
    dumped = dump(first)
    assert dumped == dump(second)
    assert len(dumped["transaction"]) > 300
    assert dumped["customer"] != dump(other)["customer"]
    # As `sqlite3 .dump` writes them: the schema and every row, byte for byte.
    assert sql_dump(first) == sql_dump(second)
    assert sql_dump(first) != sql_dump(other)


def sql_dump(path: Path) -> str:
    connection = sqlite3.connect(path)
    try:
        return "\n".join(connection.iterdump())
    finally:
        connection.close()


def test_seed_refuses_production_without_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "production.db"
    production = settings_for(path).model_copy(update={"environment": "production"})
    with pytest.raises(SystemExit) as exit_info:
        seed.main(["--bcrypt-rounds", "4", "--customers", "0"], settings=production)
    assert "refuses to run with ENVIRONMENT=production" in str(exit_info.value.code)
    assert "--allow-production" in str(exit_info.value.code)
    assert not path.exists()  # nothing was touched
    assert "demo-admin-password" not in capsys.readouterr().out


def test_seed_runs_in_production_when_allowed(tmp_path: Path) -> None:
    path = tmp_path / "allowed.db"
    production = settings_for(path).model_copy(update={"environment": "production"})
    args = ["--bcrypt-rounds", "4", "--customers", "0", "--allow-production"]
    report = seed.main(args, settings=production)
    assert report.document_customers_created == 5


def test_seeding_again_duplicates_nothing(seeded: Path) -> None:
    before = dump(seeded)
    report = run_seed(seeded, "--customers", "4", "--seed", "7")
    assert (report.customers_created, report.customers_skipped) == (0, 4)
    assert (report.document_customers_created, report.document_customers_skipped) == (0, 5)
    assert dump(seeded) == before


def test_reset_drops_what_was_there(seeded: Path) -> None:
    report = run_seed(seeded, "--reset", "--customers", "1", "--seed", "7")
    assert (report.customers_created, report.document_customers_created) == (1, 5)
    assert len(dump(seeded)["customer"]) == 6


def test_tokens_issued_before_a_reset_are_refused_after_it(seeded: Path) -> None:
    """The same seed makes the same users again: their old tokens must still die with the
    database they were issued by (their sessions are gone)."""
    with TestClient(create_app(settings_for(seeded))) as client:
        admin = logon_headers(client, *seed.DEMO_ADMIN)
        customer = logon_headers(client, "customer00001", seed.SANDBOX_PASSWORD)
        assert client.get("/customers", headers=admin).status_code == 200
        assert client.get("/customers/me", headers=customer).status_code == 200

        run_seed(seeded, "--reset", "--customers", "4", "--seed", "7")

        assert client.get("/customers", headers=admin).status_code == 401
        assert client.get("/customers/me", headers=customer).status_code == 401
        assert client.get("/accounts/overview", headers=customer).status_code == 401
        # New logons work as before.
        assert (
            client.get("/customers", headers=logon_headers(client, *seed.DEMO_ADMIN)).status_code
            == 200
        )


def test_faker_customers_have_a_consistent_year(seeded: Path) -> None:
    engine = create_db_engine(settings_for(seeded))
    with Session(engine) as session:
        transactions = session.exec(select(PortfolioTransaction)).all()
        spending = session.exec(select(Spending)).all()
        accounts = session.exec(select(Account)).all()
        customers = session.exec(select(Customer).where(col(Customer.country).is_not(None))).all()
        lives = session.exec(select(Persona)).all()
        posted = session.exec(
            select(CardPayment).where(col(CardPayment.status) == CardPaymentStatus.posted)
        ).all()
        postings = session.exec(select(Posting).where(col(Posting.account_id).is_not(None))).all()
    try:
        assert_ledger_consistent(engine)  # balances are the sums of their postings
    finally:
        engine.dispose()
    assert len(customers) == 4
    # Each lived 2025 as a persona, and is ready to live on from New Year 2026.
    assert {life.customer_id for life in lives} == {c.id for c in customers}
    assert {life.next_on.isoformat() for life in lives} == {"2026-01-01"}
    per_customer: dict[Any, int] = defaultdict(int)
    for row in transactions:
        per_customer[row.customer_id] += 1
    assert all(60 <= per_customer[c.id] <= 600 for c in customers), per_customer

    # Every posting on a Faker customer's account is in its portfolio history.
    faker_ids = {c.id for c in customers}
    owner = {a.id: a.customer_id for a in accounts}
    assert sorted(
        (p.account_id, p.created_at, p.amount) for p in postings if owner[p.account_id] in faker_ids
    ) == sorted(
        (t.account_id, t.occurred_at, t.amount)
        for t in transactions
        if t.account_id is not None and t.customer_id in faker_ids
    )
    # Spending is the posted card payments, summed by month, category and currency.
    expected: dict[tuple[Any, ...], Decimal] = defaultdict(Decimal)
    for payment in posted:
        assert payment.posted_at is not None
        month = payment.posted_at.strftime("%Y-%m")
        expected[(owner[payment.account_id], month, payment.category, payment.currency)] += (
            payment.amount
        )
    assert {
        (s.customer_id, s.month, s.category, s.currency): s.amount
        for s in spending
        if s.customer_id in faker_ids
    } == expected


def test_john_doe_portfolio_after_seeding(seeded: Path) -> None:
    with TestClient(create_app(settings_for(seeded))) as client:
        analyst = logon_headers(client, *seed.DEMO_ANALYST)
        response = client.get(f"/user-portfolio/{JOHN}", headers=analyst)
        assert response.status_code == 200
        body = response.json()
        john_login = logon_headers(client, "john.doe", seed.SANDBOX_PASSWORD)
        assert client.get("/portfolio", headers=john_login).json() == body

    assert body["user"] == {"name": "John Doe", "customer_oid": JOHN}
    assert sorted((a["symbol"], a["quantity"], a["current_value"]) for a in body["assets"]) == [
        ("AAPL", "100", "15000.00"),
        ("BTC", "2.5", "107500.00"),
        ("GOOGL", "50", "7000.00"),
        ("SPY", "200", "90000.00"),
        ("US10Y", "10000", "9850.00"),
    ]
    accounts = {(a["currency"], a["balance"]): a for a in body["bank_accounts"]}
    assert set(accounts) == {("USD", "50000.00"), ("EUR", "25000.00")}
    first_national = accounts[("USD", "50000.00")]
    assert first_national["account_number"] == "ACC-001"
    assert first_national["institution"]["name"] == "First National Bank"
    assert first_national["institution"]["routing_number"] == "123456789"
    ours = accounts[("EUR", "25000.00")]
    assert ours["account_number"] == ours["iban"]
    assert ours["institution"]["name"] == "OpenBank"

    summary = body["portfolio_summary"]
    assert {k: summary[k] for k in (
        "total_assets", "total_accounts", "total_transactions", "total_spending_categories",
        "total_derivative_positions",
    )} == {
        "total_assets": 5,
        "total_accounts": 2,
        "total_transactions": 10,
        "total_spending_categories": 5,
        "total_derivative_positions": 2,
    }  # fmt: skip
    assert summary["totals_by_currency"] == {
        "EUR": {"cash_balance": "25000.00", "spending": "0.00", "assets_value": "0.00"},
        "USD": {"cash_balance": "50000.00", "spending": "2500.00", "assets_value": "229350.00"},
    }
    # Most of John Doe's cash is in dollars, so his summary is in USD: his spending rows add up
    # to 2,500.00 USD as the portfolio-analysis API's sample shows; EUR/USD 1.0850 for the rest.
    assert summary["base_currency"] == "USD"
    assert summary["fx_rates"] == {"EUR": "1.085", "USD": "1.00"}
    assert summary["total_cash_balance"] == "77125.00"  # 50000 + 25000 * 1.0850
    assert summary["total_spending"] == "2500.00"
    assert summary["total_assets_value"] == "229350.00"
    assert summary["has_data"] == dict.fromkeys(
        ("assets", "accounts", "transactions", "spending", "derivatives"), True
    )


def test_totals_match_the_seeded_rows_for_every_customer(seeded: Path) -> None:
    """The API's per-currency totals equal plain SQL sums over what seed.py wrote."""
    engine = create_db_engine(settings_for(seeded))
    with new_session(engine) as session:
        oids = [str(c) for c in session.exec(select(Customer.id)).all()]
        cash: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        for account in session.exec(select(Account)).all():
            cash[(str(account.customer_id), account.currency)] += account.balance
    engine.dispose()
    with TestClient(create_app(settings_for(seeded))) as client:
        analyst = logon_headers(client, *seed.DEMO_ANALYST)
        for oid in oids:
            summary = client.get(f"/user-portfolio/{oid}", headers=analyst).json()[
                "portfolio_summary"
            ]
            for currency, totals in summary["totals_by_currency"].items():
                assert Decimal(totals["cash_balance"]) == cash[(oid, currency)]
