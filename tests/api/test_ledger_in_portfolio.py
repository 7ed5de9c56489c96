"""Money movement shows in the portfolio: every posting on a customer account is also one of
that customer's portfolio transactions, written in the same unit of work."""

from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import col, func, select

from app.core.db import new_session
from app.models.account import Account
from app.models.funding_account import FundingAccount
from app.models.posting import Posting
from tests.utils.auth import AuthedUser
from tests.utils.money import assert_ledger_consistent, deposit, transfer_body


def portfolio_lines(client: TestClient, who: AuthedUser) -> list[tuple[str, str, str, str]]:
    response = client.get("/portfolio", headers=who.headers)
    assert response.status_code == 200, response.text
    return [
        (line["transaction_type"], line["amount"], line["currency"], line["description"])
        for line in response.json()["transactions"]
    ]


def test_funding_and_transfers_appear_in_both_portfolios(
    client: TestClient,
    customer: AuthedUser,
    other_customer: AuthedUser,
    admin_headers: dict[str, str],
) -> None:
    deposit(client, admin_headers, customer.iban, "100.00", description="Sandbox funding")
    sent = client.post(
        "/transfers",
        json=transfer_body(customer.iban, other_customer.iban, "30.00", description="Rent share"),
        headers=customer.headers,
    )
    assert sent.status_code == 201, sent.text

    assert portfolio_lines(client, customer) == [
        ("transfer", "-30.00", "EUR", "Rent share"),
        ("deposit", "100.00", "EUR", "Sandbox funding"),
    ]
    assert portfolio_lines(client, other_customer) == [("transfer", "30.00", "EUR", "Rent share")]
    mine = client.get("/portfolio", headers=customer.headers).json()
    assert mine["portfolio_summary"]["total_transactions"] == 2
    line = mine["transactions"][0]
    assert line["counterparty"] == "Bob Builder"
    assert line["account_id"] is not None


def test_a_refused_transfer_leaves_no_portfolio_line(
    client: TestClient, customer: AuthedUser, other_customer: AuthedUser
) -> None:
    refused = client.post(
        "/transfers",
        json=transfer_body(customer.iban, other_customer.iban, "5.00"),
        headers=customer.headers,
    )
    assert refused.status_code == 422
    assert portfolio_lines(client, customer) == []
    assert portfolio_lines(client, other_customer) == []


def test_deleting_a_customer_returns_its_money_to_the_funding_account(
    client: TestClient,
    engine: Engine,
    customer: AuthedUser,
    other_customer: AuthedUser,
    admin_headers: dict[str, str],
) -> None:
    deposit(client, admin_headers, customer.iban, "100.00")
    deposit(client, admin_headers, other_customer.iban, "40.00")
    moved = client.post(
        "/transfers",
        json=transfer_body(customer.iban, other_customer.iban, "25.00"),
        headers=customer.headers,
    )
    assert moved.status_code == 201

    deleted = client.delete(f"/customer/{customer.customer_oid}", headers=admin_headers)
    assert deleted.status_code == 200, deleted.text

    with new_session(engine) as session:
        (fund,) = session.exec(select(FundingAccount)).all()
        remaining = session.exec(select(Account.balance).where(col(Account.iban).is_not(None)))
        in_sandbox = sum(remaining.all(), Decimal(0))
        funding_postings = session.exec(
            select(func.sum(Posting.amount)).where(Posting.funding_account_id == fund.id)
        ).one()
        closing = session.exec(
            select(Posting.amount).where(
                Posting.funding_account_id == fund.id,
                Posting.counterparty_iban == customer.iban,
            )
        ).all()
    # Bob keeps his 65.00; the 75.00 Alice had went back to the funding account.
    assert in_sandbox == Decimal("65.00")
    assert fund.balance == -in_sandbox == funding_postings
    assert Decimal("75.00") in closing
    # Her postings stay in the books on a closed account: every entry still sums to zero.
    totals = assert_ledger_consistent(engine)
    assert totals.entries_by_kind == {"deposit": 2, "transfer": 1, "withdrawal": 1}
    with new_session(engine) as session:
        closed = session.exec(
            select(func.count())
            .select_from(Posting)
            .where(col(Posting.account_id).is_(None), col(Posting.funding_account_id).is_(None))
        ).one()
    assert closed == 3  # her deposit, her side of the transfer, the closing withdrawal
