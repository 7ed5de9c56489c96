"""GET /user-portfolio/{oid}, GET /portfolio and GET /user-portfolio/{oid}/transactions."""

from __future__ import annotations

import base64
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from app.core.pagination import encode_cursor
from app.models.account import Account, AccountType
from app.models.asset import AssetType
from app.models.institution import InstitutionType
from app.models.portfolio_transaction import TransactionType
from tests.utils.auth import AuthedUser
from tests.utils.portfolio import (
    START,
    add_account,
    add_asset,
    add_customer,
    add_derivative,
    add_institution,
    add_spending,
    add_transactions,
    count_statements,
    transaction_rows,
)

UNKNOWN_OID = "550e8400-e29b-41d4-a716-446655440099"

MALFORMED = "Malformed pagination cursor"


@pytest.fixture
def alice_data(session: Session, customer: AuthedUser) -> uuid.UUID:
    """Alice in three currencies: the numbers the summary tests check by hand."""
    alice = uuid.UUID(customer.customer_oid)
    session.execute(
        update(Account).where(col(Account.iban) == customer.iban).values(balance=Decimal("25000"))
    )
    session.commit()
    first_national = add_institution(session)
    london = add_institution(
        session, "London Savings", InstitutionType.bank, routing_number=None, bic="LNDSGB2L"
    )
    add_account(
        session, alice, first_national, balance="50000.00", currency="USD", account_number="ACC-001"
    )
    add_account(
        session,
        alice,
        london,
        balance="1234.57",
        currency="GBP",
        account_type=AccountType.saving,
        account_number="GB-77",
    )
    add_asset(session, alice, "AAPL", quantity="100", value="15000.00")
    add_asset(session, alice, "BTC", quantity="2.5", value="107500.00", asset_type=AssetType.crypto)
    add_spending(session, alice, "groceries", month="2025-01", amount="500.00")
    add_spending(session, alice, "dining", month="2025-01", amount="312.40")
    add_spending(session, alice, "groceries", month="2025-02", amount="99.99", currency="USD")
    add_derivative(session, alice)
    add_transactions(session, transaction_rows(alice, 150))
    return alice


def portfolio(client: TestClient, oid: str, headers: dict[str, str], **params: Any) -> Any:
    response = client.get(f"/user-portfolio/{oid}", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


# --- who may read what ------------------------------------------------------------------------


def test_portfolio_needs_a_token(client: TestClient, customer: AuthedUser) -> None:
    response = client.get(f"/user-portfolio/{customer.customer_oid}")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert client.get("/portfolio").status_code == 401
    assert client.get(f"/user-portfolio/{customer.customer_oid}/transactions").status_code == 401
    # Even a malformed OID: authentication is checked first.
    assert client.get("/user-portfolio/nope").status_code == 401


def test_owner_analyst_and_admin_read_a_portfolio(
    client: TestClient,
    customer: AuthedUser,
    analyst_headers: dict[str, str],
    admin_headers: dict[str, str],
) -> None:
    for headers in (customer.headers, analyst_headers, admin_headers):
        body = portfolio(client, customer.customer_oid, headers)
        assert body["customer_oid"] == customer.customer_oid
        assert body["user"] == {"name": "Alice Example", "customer_oid": customer.customer_oid}


def test_someone_elses_portfolio_looks_like_an_unknown_one(
    client: TestClient, customer: AuthedUser, other_customer: AuthedUser
) -> None:
    theirs = client.get(f"/user-portfolio/{other_customer.customer_oid}", headers=customer.headers)
    unknown = client.get(f"/user-portfolio/{UNKNOWN_OID}", headers=customer.headers)
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.json() == {
        "detail": f"Customer with CustomerOID '{other_customer.customer_oid}' not found"
    }
    assert unknown.json() == {"detail": f"Customer with CustomerOID '{UNKNOWN_OID}' not found"}
    pages = client.get(
        f"/user-portfolio/{other_customer.customer_oid}/transactions", headers=customer.headers
    )
    assert pages.status_code == 404


def test_unknown_and_malformed_oids(client: TestClient, analyst_headers: dict[str, str]) -> None:
    unknown = client.get(f"/user-portfolio/{UNKNOWN_OID}", headers=analyst_headers)
    assert unknown.status_code == 404
    assert unknown.json() == {"detail": f"Customer with CustomerOID '{UNKNOWN_OID}' not found"}
    for path in ("/user-portfolio/1234", "/user-portfolio/1234/transactions"):
        malformed = client.get(path, headers=analyst_headers)
        assert malformed.status_code == 400
        assert malformed.json() == {"detail": "Invalid CustomerOID format"}
    gone = client.get(f"/user-portfolio/{UNKNOWN_OID}/transactions", headers=analyst_headers)
    assert gone.status_code == 404


def test_own_portfolio_is_for_customers(
    client: TestClient, customer: AuthedUser, analyst_headers: dict[str, str]
) -> None:
    own = client.get("/portfolio", headers=customer.headers)
    assert own.status_code == 200
    assert own.json() == portfolio(client, customer.customer_oid, analyst_headers)
    staff = client.get("/portfolio", headers=analyst_headers)
    assert staff.status_code == 403
    assert staff.json() == {"detail": "Only customers have accounts and portfolios"}


# --- the response, field for field -----------------------------------------------------------


def test_a_new_customer_has_an_empty_but_complete_portfolio(
    client: TestClient, session: Session, analyst_headers: dict[str, str]
) -> None:
    oid = str(add_customer(session, "Nobody Yet"))
    assert portfolio(client, oid, analyst_headers) == {
        "customer_oid": oid,
        "user": {"name": "Nobody Yet", "customer_oid": oid},
        "assets": [],
        "bank_accounts": [],
        "transactions": [],
        "transactions_next_cursor": None,
        "spending": [],
        "derivative_transactions": [],
        "portfolio_summary": {
            "customer_oid": oid,
            "base_currency": "EUR",
            "total_cash_balance": "0.00",
            "total_spending": "0.00",
            "total_assets": 0,
            "total_assets_value": "0.00",
            "total_accounts": 0,
            "total_transactions": 0,
            "total_spending_categories": 0,
            "total_derivative_positions": 0,
            "totals_by_currency": {},
            "fx_rates": {},
            "has_data": {
                "assets": False,
                "accounts": False,
                "transactions": False,
                "spending": False,
                "derivatives": False,
            },
        },
    }


def test_portfolio_sections(
    client: TestClient, customer: AuthedUser, alice_data: uuid.UUID
) -> None:
    body = client.get("/portfolio", headers=customer.headers).json()
    oid = customer.customer_oid

    btc, aapl = body["assets"]  # by asset type, then symbol
    assert {k: aapl[k] for k in ("customer_oid", "asset_type", "symbol", "quantity")} == {
        "customer_oid": oid,
        "asset_type": "stock",
        "symbol": "AAPL",
        "quantity": "100",
    }
    assert (aapl["current_value"], aapl["currency"]) == ("15000.00", "USD")
    assert (btc["asset_type"], btc["quantity"], btc["current_value"]) == (
        "crypto",
        "2.5",
        "107500.00",
    )
    assert isinstance(aapl["id"], int)

    ours, first_national, london = body["bank_accounts"]
    assert ours["account_number"] == ours["iban"] == customer.iban
    assert (ours["balance"], ours["currency"], ours["account_type"]) == (
        "25000.00",
        "EUR",
        "checking",
    )
    assert ours["institution"]["name"] == "OpenBank"
    assert ours["institution"]["bic"] == "OPNBNL2A"
    assert {
        k: first_national[k]
        for k in ("customer_oid", "account_number", "iban", "balance", "currency")
    } == {
        "customer_oid": oid,
        "account_number": "ACC-001",
        "iban": None,
        "balance": "50000.00",
        "currency": "USD",
    }
    institution = first_national["institution"]
    assert {k: institution[k] for k in ("name", "institution_type", "routing_number", "bic")} == {
        "name": "First National Bank",
        "institution_type": "bank",
        "routing_number": "123456789",
        "bic": None,
    }
    assert isinstance(institution["id"], int)
    assert london["institution"]["bic"] == "LNDSGB2L"
    assert london["account_type"] == "saving"

    assert [(s["month"], s["category"], s["amount"], s["currency"]) for s in body["spending"]] == [
        ("2025-02", "groceries", "99.99", "USD"),
        ("2025-01", "dining", "312.40", "EUR"),
        ("2025-01", "groceries", "500.00", "EUR"),
    ]
    (option,) = body["derivative_transactions"]
    assert {k: option[k] for k in option if k not in ("id",)} == {
        "customer_oid": oid,
        "derivative_type": "call",
        "side": "buy",
        "asset_symbol": "AAPL",
        "quantity": "1",
        "strike_price": "180.00",
        "premium": "350.00",
        "currency": "USD",
        "execution_date": "2025-01-10",
        "expiration_date": "2025-06-20",
        "strategy": "long_call",
        "status": "open",
        "counterparty": "Global Investment Brokers",
    }

    newest = body["transactions"][0]
    assert newest["occurred_at"] == (START + timedelta(hours=149)).isoformat().replace(
        "+00:00", "Z"
    )
    assert {k: newest[k] for k in ("transaction_type", "currency", "category", "account_id")} == {
        "transaction_type": "card",
        "currency": "EUR",
        "category": "dining",
        "account_id": None,
    }
    assert newest["amount"] == "-2.49"


def test_summary_totals_convert_every_currency_into_the_base(
    client: TestClient, customer: AuthedUser, alice_data: uuid.UUID
) -> None:
    body = client.get("/portfolio?base_currency=EUR", headers=customer.headers).json()
    summary = body["portfolio_summary"]
    # USD->EUR = 1/1.0850 and GBP->EUR = 1/0.8550, to ten places; rounded half-even once, last:
    # 25000 + 50000 * 0.9216589862 + 1234.57 * 1.1695906433 = 72526.8908...
    assert summary["base_currency"] == "EUR"
    assert summary["fx_rates"] == {"EUR": "1.00", "GBP": "1.1695906433", "USD": "0.9216589862"}
    assert summary["total_cash_balance"] == "72526.89"
    assert summary["total_spending"] == "904.56"  # 500 + 312.40 + 99.99 * 0.9216589862
    assert summary["total_assets_value"] == "112903.23"  # 122500 * 0.9216589862
    assert summary["totals_by_currency"] == {
        "EUR": {"cash_balance": "25000.00", "spending": "812.40", "assets_value": "0.00"},
        "GBP": {"cash_balance": "1234.57", "spending": "0.00", "assets_value": "0.00"},
        "USD": {"cash_balance": "50000.00", "spending": "99.99", "assets_value": "122500.00"},
    }
    assert {
        k: summary[k]
        for k in (
            "total_assets",
            "total_accounts",
            "total_transactions",
            "total_spending_categories",
            "total_derivative_positions",
        )
    } == {
        "total_assets": 2,
        "total_accounts": 3,
        "total_transactions": 150,
        "total_spending_categories": 2,
        "total_derivative_positions": 1,
    }
    assert summary["has_data"] == dict.fromkeys(
        ("assets", "accounts", "transactions", "spending", "derivatives"), True
    )


def test_summary_in_another_base_currency_uses_a_cross_rate(
    client: TestClient, customer: AuthedUser, alice_data: uuid.UUID
) -> None:
    body = client.get("/portfolio?base_currency=usd", headers=customer.headers).json()
    summary = body["portfolio_summary"]
    assert summary["base_currency"] == "USD"
    # GBP->USD through EUR: 1.1695906433 * 1.0850 = 1.2690058480 (ten places).
    assert summary["fx_rates"] == {"EUR": "1.085", "GBP": "1.269005848", "USD": "1.00"}
    assert summary["total_cash_balance"] == "78691.68"
    assert summary["total_assets_value"] == "122500.00"


# --- the reporting currency: the summary's currency when none is asked for ----------------


def test_summary_defaults_to_the_currency_of_most_of_the_cash(
    client: TestClient, customer: AuthedUser, alice_data: uuid.UUID
) -> None:
    """Alice holds 50000 USD, 25000 EUR and 1234.57 GBP: most of her cash (valued in the bank's
    EUR, 46082.95 against 25000) is in dollars, so her summary reads dollars."""
    default = client.get("/portfolio", headers=customer.headers).json()["portfolio_summary"]
    in_usd = client.get("/portfolio?base_currency=USD", headers=customer.headers).json()
    assert default["base_currency"] == "USD"
    assert default == in_usd["portfolio_summary"]
    assert default["total_spending"] == "981.44"  # (500 + 312.40) * 1.0850 + 99.99
    assert default["total_assets_value"] == "122500.00"  # USD holdings: no rate applied


def test_a_one_currency_customer_reads_plain_sums(
    client: TestClient, session: Session, analyst_headers: dict[str, str]
) -> None:
    sam = add_customer(session, "Sam Dollar")
    bank = add_institution(session)
    add_account(session, sam, bank, balance="1200.10", currency="USD")
    add_account(session, sam, bank, balance="0.33", currency="USD", account_type=AccountType.saving)
    add_asset(session, sam, "AAPL", quantity="3", value="450.01", currency="USD")
    add_spending(session, sam, "rent", month="2025-01", amount="999.99", currency="USD")
    add_spending(session, sam, "dining", month="2025-01", amount="0.02", currency="USD")
    summary = portfolio(client, str(sam), analyst_headers)["portfolio_summary"]
    assert summary["base_currency"] == "USD"
    assert summary["fx_rates"] == {"USD": "1.00"}
    assert (
        summary["total_cash_balance"],
        summary["total_spending"],
        summary["total_assets_value"],
    ) == ("1200.43", "1000.01", "450.01")
    assert summary["totals_by_currency"] == {
        "USD": {"cash_balance": "1200.43", "spending": "1000.01", "assets_value": "450.01"}
    }


def test_a_tie_or_no_cash_reads_the_banks_base_currency(
    client: TestClient,
    session: Session,
    admin_headers: dict[str, str],
    analyst_headers: dict[str, str],
) -> None:
    for quote, rate in (("USD", "2"), ("GBP", "4")):  # exact: 1 USD = 0.5 EUR, 1 GBP = 0.25 EUR
        response = client.put(
            f"/admin/fx-rates/EUR/{quote}", json={"rate": rate}, headers=admin_headers
        )
        assert response.status_code == 200, response.text
    tied = add_customer(session, "Tia Tie")
    bank = add_institution(session)
    add_account(session, tied, bank, balance="200.00", currency="USD")  # 100 EUR
    add_account(
        session, tied, bank, balance="400.00", currency="GBP", account_type=AccountType.saving
    )  # 100 EUR
    summary = portfolio(client, str(tied), analyst_headers)["portfolio_summary"]
    assert summary["base_currency"] == "EUR"
    assert summary["total_cash_balance"] == "200.00"

    no_cash = add_customer(session, "Nora Nocash")
    add_spending(session, no_cash, "rent", month="2025-01", amount="10.00", currency="USD")
    summary = portfolio(client, str(no_cash), analyst_headers)["portfolio_summary"]
    assert summary["base_currency"] == "EUR"
    assert summary["total_spending"] == "5.00"


def test_base_currency_still_converts_on_request(
    client: TestClient, customer: AuthedUser, alice_data: uuid.UUID, analyst_headers: dict[str, str]
) -> None:
    asked = portfolio(client, customer.customer_oid, analyst_headers, base_currency="gbp")
    summary = asked["portfolio_summary"]
    assert summary["base_currency"] == "GBP"
    assert summary["totals_by_currency"]["GBP"]["cash_balance"] == "1234.57"
    assert summary["fx_rates"]["EUR"] == "0.855"


def test_totals_count_all_rows_while_only_the_latest_are_embedded(
    client: TestClient, customer: AuthedUser, alice_data: uuid.UUID, analyst_headers: dict[str, str]
) -> None:
    body = client.get("/portfolio", headers=customer.headers).json()
    assert len(body["transactions"]) == 100
    assert body["portfolio_summary"]["total_transactions"] == 150
    assert body["transactions_next_cursor"] is not None
    ten = portfolio(client, customer.customer_oid, analyst_headers, transactions_limit=10)
    assert [t["id"] for t in ten["transactions"]] == [t["id"] for t in body["transactions"][:10]]
    assert ten["portfolio_summary"] == body["portfolio_summary"]
    everything = portfolio(client, customer.customer_oid, analyst_headers, transactions_limit=1000)
    assert len(everything["transactions"]) == 150
    assert everything["transactions_next_cursor"] is None
    none = portfolio(client, customer.customer_oid, analyst_headers, transactions_limit=0)
    assert none["transactions"] == []
    # The cursor continues where the embedded list stops.
    rest = client.get(
        f"/user-portfolio/{customer.customer_oid}/transactions",
        params={"before": body["transactions_next_cursor"], "limit": 1000},
        headers=analyst_headers,
    ).json()
    ids = [t["id"] for t in body["transactions"] + rest["transactions"]]
    assert ids == [t["id"] for t in everything["transactions"]]


@pytest.mark.parametrize(
    "params",
    [
        {"transactions_limit": 1001},
        {"transactions_limit": -1},
        {"base_currency": "EURO"},
        {"base_currency": "JPY"},
    ],
)
def test_portfolio_rejects_bad_parameters(
    client: TestClient, customer: AuthedUser, params: dict[str, Any]
) -> None:
    response = client.get("/portfolio", params=params, headers=customer.headers)
    assert response.status_code == 422
    if params.get("base_currency") == "JPY":
        assert response.json() == {"detail": "Currency JPY is not supported"}


def test_a_currency_without_rate_is_a_clear_422_until_an_admin_adds_one(
    client: TestClient,
    session: Session,
    customer: AuthedUser,
    admin_headers: dict[str, str],
) -> None:
    assert (
        client.post("/admin/currencies", json={"code": "CHF"}, headers=admin_headers).status_code
        == 201
    )
    bank = add_institution(session, "Zurich Private", routing_number=None, bic="ZRCHCHZZ")
    add_account(session, uuid.UUID(customer.customer_oid), bank, balance="940.00", currency="CHF")
    missing = client.get("/portfolio?base_currency=EUR", headers=customer.headers)
    assert missing.status_code == 422
    assert missing.json() == {
        "detail": "No FX rate to convert CHF into EUR; an admin can set one with "
        "PUT /admin/fx-rates/CHF/EUR"
    }
    added = client.put("/admin/fx-rates/EUR/CHF", json={"rate": "0.9400"}, headers=admin_headers)
    assert added.status_code == 201
    in_eur = client.get("/portfolio?base_currency=EUR", headers=customer.headers).json()
    summary = in_eur["portfolio_summary"]
    assert summary["total_cash_balance"] == "1000.00"  # 940 / 0.94
    assert summary["fx_rates"]["CHF"] == "1.0638297872"


# --- transactions page by page ----------------------------------------------------------------


def pages(client: TestClient, oid: str, headers: dict[str, str], **params: Any) -> list[Any]:
    out: list[Any] = []
    before = None
    while True:
        query = {**params, **({"before": before} if before else {})}
        response = client.get(f"/user-portfolio/{oid}/transactions", params=query, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        out.extend(body["transactions"])
        before = body["next_cursor"]
        if before is None:
            return out


def test_pages_walk_every_transaction_once_newest_first_even_with_equal_times(
    client: TestClient, session: Session, customer: AuthedUser
) -> None:
    alice = uuid.UUID(customer.customer_oid)
    # 30 transactions at only 6 distinct instants: ties are broken by id.
    rows = transaction_rows(alice, 30)
    for i, row in enumerate(rows):
        row["occurred_at"] = START + timedelta(days=i // 5)
    add_transactions(session, rows)
    walked = pages(client, customer.customer_oid, customer.headers, limit=7)
    keys = [(t["occurred_at"], t["id"]) for t in walked]
    assert len(keys) == len(set(keys)) == 30
    assert keys == sorted(keys, reverse=True)
    first = client.get(
        f"/user-portfolio/{customer.customer_oid}/transactions?limit=7", headers=customer.headers
    ).json()
    assert first["limit"] == 7
    assert first["customer_oid"] == customer.customer_oid
    assert len(first["transactions"]) == 7


def test_transaction_filters(
    client: TestClient, session: Session, customer: AuthedUser, analyst_headers: dict[str, str]
) -> None:
    alice = uuid.UUID(customer.customer_oid)
    rows = transaction_rows(alice, 60, step=timedelta(days=1))  # 2025-01-01 .. 2025-03-01
    rows[0].update(
        transaction_type=TransactionType.salary, amount=Decimal("3000.00"), category="income"
    )
    add_transactions(session, rows)
    oid = customer.customer_oid

    january = pages(client, oid, analyst_headers, **{"from": "2025-01-01", "to": "2025-01-31"})
    assert len(january) == 31
    assert {t["occurred_at"][:7] for t in january} == {"2025-01"}
    february_dining = pages(
        client, oid, analyst_headers, **{"from": "2025-02-01", "category": "dining", "limit": 4}
    )
    assert {t["category"] for t in february_dining} == {"dining"}
    assert len(february_dining) == 15  # the odd indexes 31..59 (Feb 1 .. Mar 1)
    salary = pages(client, oid, analyst_headers, type="salary")
    assert [(t["transaction_type"], t["amount"]) for t in salary] == [("salary", "3000.00")]
    assert pages(client, oid, analyst_headers, type="dividend") == []


def test_transaction_dates_at_the_edges_of_the_calendar(
    client: TestClient, session: Session, customer: AuthedUser
) -> None:
    add_transactions(session, transaction_rows(uuid.UUID(customer.customer_oid), 3))

    def ids(**params: str) -> list[int]:
        response = client.get(
            f"/user-portfolio/{customer.customer_oid}/transactions",
            params=params,
            headers=customer.headers,
        )
        assert response.status_code == 200, response.text  # `to=9999-12-31` was a 500
        return [t["id"] for t in response.json()["transactions"]]

    everything = ids()
    assert len(everything) == 3
    assert ids(to="9999-12-31") == everything
    assert ids(**{"from": "0001-01-01", "to": "9999-12-31"}) == everything
    assert ids(**{"from": "9999-12-31", "to": "9999-12-31"}) == []
    assert ids(**{"from": "9999-12-31"}) == []
    assert ids(to="0001-01-01") == []


@pytest.mark.parametrize(
    ("params", "status", "detail"),
    [
        ({"before": "not base64 !"}, 400, MALFORMED),
        (
            {"before": base64.urlsafe_b64encode(b"garbage").decode()},
            400,
            MALFORMED,
        ),
        (
            {"before": base64.urlsafe_b64encode(b"2025-01-01T00:00:00|7").decode()},
            400,
            MALFORMED,
        ),
        (
            {"before": base64.urlsafe_b64encode(b"2025-01-01T00:00:00+00:00|0").decode()},
            400,
            MALFORMED,
        ),
        (
            {"before": base64.urlsafe_b64encode(b"\xff\xfe").decode()},
            400,
            MALFORMED,
        ),
        ({"from": "2025-02-01", "to": "2025-01-01"}, 422, "'from' must not be after 'to'"),
        ({"type": "lottery"}, 422, None),
        ({"limit": 0}, 422, None),
        ({"limit": 1001}, 422, None),
        ({"from": "yesterday"}, 422, None),
        ({"to": "10000-01-01"}, 422, None),
        ({"from": "9999-12-31", "to": "0001-01-01"}, 422, "'from' must not be after 'to'"),
    ],
)
def test_transaction_page_rejects_bad_input(
    client: TestClient,
    customer: AuthedUser,
    params: dict[str, Any],
    status: int,
    detail: str | None,
) -> None:
    response = client.get(
        f"/user-portfolio/{customer.customer_oid}/transactions",
        params=params,
        headers=customer.headers,
    )
    assert response.status_code == status
    if detail:
        assert response.json() == {"detail": detail}


# --- fixed cost -------------------------------------------------------------------------------


def _customer_with_history(session: Session, transactions: int) -> uuid.UUID:
    customer_id = add_customer(session, f"History {transactions}")
    bank = add_institution(session, f"Bank {transactions}")
    account = add_account(session, customer_id, bank, balance="100.00", currency="USD")
    add_asset(session, customer_id, "AAPL", quantity="3", value="450.00")
    add_spending(session, customer_id, "groceries", month="2025-01", amount="40.00")
    add_derivative(session, customer_id)
    add_transactions(
        session,
        transaction_rows(customer_id, transactions, account_id=account, step=timedelta(minutes=5)),
    )
    return customer_id


def test_a_portfolio_costs_the_same_statements_for_10_and_10000_transactions(
    client: TestClient, engine: Engine, session: Session, analyst_headers: dict[str, str]
) -> None:
    small = _customer_with_history(session, 10)
    large = _customer_with_history(session, 10_000)
    counts = {}
    for customer_id in (small, large):
        with count_statements(engine) as statements:
            body = portfolio(client, str(customer_id), analyst_headers)
        counts[customer_id] = len(statements)
        assert body["portfolio_summary"]["total_transactions"] in (10, 10_000)
    assert counts[small] == counts[large]
    # The user behind the token, the customer, the base currency and rates, five sections and
    # four summary statements (counts; cash, spending and holdings by currency), plus BEGIN.
    assert counts[large] <= 15, counts


def test_a_deep_page_costs_the_same_as_the_first(
    client: TestClient, engine: Engine, session: Session, analyst_headers: dict[str, str]
) -> None:
    customer_id = _customer_with_history(session, 10_000)
    path = f"/user-portfolio/{customer_id}/transactions"
    with count_statements(engine) as first_statements:
        first = client.get(path, params={"limit": 50}, headers=analyst_headers).json()
    newest = first["transactions"][0]
    # A cursor 9,900 transactions down: five minutes apart, ids in insertion order.
    deep_id = newest["id"] - 9_900
    deep_time = START + timedelta(minutes=5 * (deep_id - newest["id"] + 9_999))
    cursor = encode_cursor(deep_time, deep_id)
    with count_statements(engine) as deep_statements:
        deep = client.get(path, params={"limit": 50, "before": cursor}, headers=analyst_headers)
    assert deep.status_code == 200
    assert [t["id"] for t in deep.json()["transactions"]] == list(
        range(deep_id - 1, deep_id - 51, -1)
    )
    assert len(first_statements) == len(deep_statements)
