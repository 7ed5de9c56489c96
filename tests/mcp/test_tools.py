"""Every MCP tool with good and bad input, through the SDK's client over HTTP.

Where a REST route answers the same question, the tool's structured output must be that
route's JSON: both call the same service function and return the same public model.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col

from app.core.money import to_money
from app.mcp import tools as mcp_tools
from app.models.account import Account, AccountType
from app.models.asset import AssetType
from app.services import health, portfolio
from tests.utils.auth import AuthedUser
from tests.utils.mcp import McpCaller
from tests.utils.money import deposit, open_account, transfer_body
from tests.utils.portfolio import (
    add_account,
    add_asset,
    add_customer,
    add_derivative,
    add_institution,
    add_spending,
    add_transactions,
    transaction_rows,
)

UNKNOWN_OID = "550e8400-e29b-41d4-a716-446655440099"
NOT_FOUND = f"Customer with CustomerOID '{UNKNOWN_OID}' not found"
MALFORMED_OIDS = [
    "nope",
    "550e8400e29b41d4a716446655440001",
    "550e8400-e29b-41d4-a716-44665544000Z",
]


@pytest.fixture
def pat(session: Session, customer: AuthedUser) -> str:
    """Alice (registered, with an account here) and a full portfolio in three currencies."""
    alice = uuid.UUID(customer.customer_oid)
    session.execute(
        update(Account).where(col(Account.iban) == customer.iban).values(balance=Decimal("25000"))
    )
    session.commit()
    bank = add_institution(session)
    add_account(session, alice, bank, balance="50000.00", currency="USD", account_number="ACC-1")
    add_account(
        session,
        alice,
        bank,
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
    add_spending(session, alice, "rent", month="2025-03", amount="1200.00")
    add_derivative(session, alice)
    add_transactions(session, transaction_rows(alice, 150))
    return customer.customer_oid


def rest(client: TestClient, path: str, headers: dict[str, str], **params: Any) -> Any:
    response = client.get(path, headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


# --- the list ----------------------------------------------------------------------------------


def test_every_tool_is_read_only_described_and_typed(analyst_mcp: McpCaller) -> None:
    tools = analyst_mcp.tools()
    for name, tool in tools.items():
        assert tool.description, name
        assert len(tool.description) > 40, name
        assert "\n    " not in tool.description, name  # the docstring, without its indentation
        assert tool.title, name
        assert tool.input_schema["type"] == "object", name
        assert tool.output_schema is not None, name
        assert tool.output_schema["type"] == "object", name
        assert tool.annotations is not None
        assert tool.annotations.read_only_hint is True, name
        assert tool.annotations.destructive_hint is False, name
    for name in ("get_portfolio", "get_portfolio_summary", "get_transactions", "customer_exists"):
        assert tools[name].input_schema["required"] == ["customer_oid"]
    assert tools["get_account_statement"].input_schema["required"] == ["iban"]
    limit = tools["get_transactions"].input_schema["properties"]["limit"]
    assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, 1000, 50)
    month = tools["get_spending_by_category"].input_schema["properties"]["from_month"]
    assert month["anyOf"][0]["pattern"] == r"^[0-9]{4}-(0[1-9]|1[0-2])$"
    assert tools["get_transactions"].input_schema["properties"]["from_date"]["anyOf"][0] == {
        "format": "date",
        "type": "string",
    }
    # Money is a string in the output schema, as in the structured output.
    summary = tools["get_portfolio_summary"].output_schema
    assert summary is not None
    assert summary["properties"]["total_cash_balance"]["type"] == "string"
    assert tools["health"].input_schema.get("properties", {}) == {}


# --- list_customers, customer_exists -------------------------------------------------------------


def test_list_customers_pages_by_name_like_get_customers(
    client: TestClient, analyst_mcp: McpCaller, analyst_headers: dict[str, str], session: Session
) -> None:
    for name in ("Zoe Doe", "John Doe", "Jane Smith", "johnny b"):
        add_customer(session, name)
    page = analyst_mcp.ok("list_customers", {"name_contains": "doe"})
    assert [c["name"] for c in page["customers"]] == ["John Doe", "Zoe Doe"]
    assert (page["total"], page["limit"], page["offset"]) == (2, 100, 0)
    assert page["customers"] == rest(client, "/customers", analyst_headers, name="doe")

    second = analyst_mcp.ok("list_customers", {"limit": 1, "offset": 1, "name_contains": "JOHN"})
    assert [c["name"] for c in second["customers"]] == ["johnny b"]
    assert second["total"] == 2
    everyone = analyst_mcp.ok("list_customers")
    assert everyone["total"] == 4


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"offset": -1}, "offset"),
        ({"offset": 2**63}, "offset"),  # more than a database OFFSET holds
    ],
)
def test_list_customers_refuses_bad_paging(
    analyst_mcp: McpCaller, arguments: dict[str, Any], field: str
) -> None:
    message = analyst_mcp.error("list_customers", arguments)
    assert message.startswith("Error executing tool list_customers: 1 validation error")
    assert f"\n{field}\n" in message


def test_list_customers_at_the_largest_offset_is_an_empty_page(
    analyst_mcp: McpCaller, session: Session
) -> None:
    add_customer(session, "Zoe Doe")
    page = analyst_mcp.ok("list_customers", {"offset": 2**63 - 1})
    assert (page["customers"], page["total"], page["offset"]) == ([], 1, 2**63 - 1)


def test_customer_exists_answers_for_known_and_unknown(
    client: TestClient, analyst_mcp: McpCaller, analyst_headers: dict[str, str], pat: str
) -> None:
    known = analyst_mcp.ok("customer_exists", {"customer_oid": pat.upper()})
    assert known == {"customer_oid": pat, "exists": True, "name": "Alice Example"}
    assert known == rest(client, f"/customer/{pat}/exists", analyst_headers)
    unknown = analyst_mcp.ok("customer_exists", {"customer_oid": UNKNOWN_OID})
    assert unknown == {"customer_oid": UNKNOWN_OID, "exists": False, "name": None}


@pytest.mark.parametrize(
    "tool",
    [
        "customer_exists",
        "get_portfolio",
        "get_portfolio_summary",
        "get_transactions",
        "get_spending_by_category",
    ],
)
def test_a_malformed_customer_oid_is_a_tool_error(analyst_mcp: McpCaller, tool: str) -> None:
    for oid in MALFORMED_OIDS:
        message = analyst_mcp.error(tool, {"customer_oid": oid})
        assert message == f"Error executing tool {tool}: Invalid CustomerOID format"
    missing = analyst_mcp.error(tool, {})
    assert "customer_oid\n  Field required" in missing


@pytest.mark.parametrize(
    "tool",
    ["get_portfolio", "get_portfolio_summary", "get_transactions", "get_spending_by_category"],
)
def test_an_unknown_customer_is_a_tool_error(analyst_mcp: McpCaller, tool: str) -> None:
    message = analyst_mcp.error(tool, {"customer_oid": UNKNOWN_OID})
    assert message == f"Error executing tool {tool}: {NOT_FOUND}"


# --- get_portfolio, get_portfolio_summary ---------------------------------------------------------


def test_get_portfolio_is_the_rest_portfolio(
    client: TestClient, analyst_mcp: McpCaller, analyst_headers: dict[str, str], pat: str
) -> None:
    mcp = analyst_mcp.ok("get_portfolio", {"customer_oid": pat})
    assert mcp == rest(client, f"/user-portfolio/{pat}", analyst_headers)
    assert len(mcp["transactions"]) == 100
    assert mcp["portfolio_summary"]["total_transactions"] == 150
    assert mcp["bank_accounts"][0]["balance"] == "25000.00"  # money as strings

    other = {"customer_oid": pat, "transactions_limit": 3, "base_currency": "usd"}
    in_usd = analyst_mcp.ok("get_portfolio", other)
    assert in_usd == rest(
        client, f"/user-portfolio/{pat}", analyst_headers, transactions_limit=3, base_currency="USD"
    )
    assert in_usd["portfolio_summary"]["base_currency"] == "USD"
    assert len(in_usd["transactions"]) == 3
    assert in_usd["transactions_next_cursor"] is not None


def test_get_portfolio_refuses_bad_options(analyst_mcp: McpCaller, pat: str) -> None:
    jpy = analyst_mcp.error("get_portfolio", {"customer_oid": pat, "base_currency": "JPY"})
    assert jpy == "Error executing tool get_portfolio: Currency JPY is not supported"
    too_many = analyst_mcp.error("get_portfolio", {"customer_oid": pat, "transactions_limit": 1001})
    assert "transactions_limit\n  Input should be less than or equal to 1000" in too_many
    long = analyst_mcp.error("get_portfolio", {"customer_oid": pat, "base_currency": "EURO"})
    assert "base_currency" in long


def test_get_portfolio_summary_is_the_portfolios_summary(
    client: TestClient, analyst_mcp: McpCaller, analyst_headers: dict[str, str], pat: str
) -> None:
    summary = analyst_mcp.ok("get_portfolio_summary", {"customer_oid": pat})
    whole = rest(client, f"/user-portfolio/{pat}", analyst_headers)
    assert summary == whole["portfolio_summary"]
    in_gbp = analyst_mcp.ok("get_portfolio_summary", {"customer_oid": pat, "base_currency": "GBP"})
    assert (
        in_gbp
        == rest(client, f"/user-portfolio/{pat}", analyst_headers, base_currency="GBP")[
            "portfolio_summary"
        ]
    )


# --- get_transactions -----------------------------------------------------------------------------


def test_get_transactions_pages_like_the_rest_route(
    client: TestClient, analyst_mcp: McpCaller, analyst_headers: dict[str, str], pat: str
) -> None:
    path = f"/user-portfolio/{pat}/transactions"
    first = analyst_mcp.ok("get_transactions", {"customer_oid": pat, "limit": 60})
    assert first == rest(client, path, analyst_headers, limit=60)
    seen = [t["id"] for t in first["transactions"]]
    cursor = first["next_cursor"]
    while cursor:
        page = analyst_mcp.ok(
            "get_transactions", {"customer_oid": pat, "limit": 60, "before": cursor}
        )
        assert page == rest(client, path, analyst_headers, limit=60, before=cursor)
        seen += [t["id"] for t in page["transactions"]]
        cursor = page["next_cursor"]
    assert len(seen) == len(set(seen)) == 150

    filtered = {
        "customer_oid": pat,
        "from_date": "2025-01-02",
        "to_date": "2025-01-03",
        "category": "dining",
    }
    dining = analyst_mcp.ok("get_transactions", filtered)
    assert dining["transactions"]
    assert {t["category"] for t in dining["transactions"]} == {"dining"}
    assert dining == rest(
        client,
        path,
        analyst_headers,
        **{"from": "2025-01-02", "to": "2025-01-03"},
        category="dining",
    )


def test_get_transactions_at_the_edges_of_the_calendar(analyst_mcp: McpCaller, pat: str) -> None:
    def ids(**dates: str) -> list[int]:
        page = analyst_mcp.ok("get_transactions", {"customer_oid": pat, "limit": 1000, **dates})
        return [t["id"] for t in page["transactions"]]

    everything = ids()
    assert len(everything) == 150
    assert ids(to_date="9999-12-31") == everything
    assert ids(from_date="0001-01-01", to_date="9999-12-31") == everything
    assert ids(from_date="9999-12-31") == []
    assert ids(to_date="0001-01-01") == []


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"before": "not-a-cursor"}, "Malformed pagination cursor"),
        ({"from_date": "2025-02-01", "to_date": "2025-01-01"}, "'from' must not be after 'to'"),
        ({"from_date": "2025-13-01"}, "from_date\n  Input should be a valid date"),
        ({"limit": 0}, "limit\n  Input should be greater than or equal to 1"),
        ({"category": "x" * 51}, "category\n  String should have at most 50 characters"),
    ],
)
def test_get_transactions_refuses_bad_input(
    analyst_mcp: McpCaller, pat: str, arguments: dict[str, Any], expected: str
) -> None:
    message = analyst_mcp.error("get_transactions", {"customer_oid": pat, **arguments})
    assert message.startswith("Error executing tool get_transactions: ")
    assert expected in message


# --- get_spending_by_category ------------------------------------------------------------------


def test_get_spending_by_category_totals_per_category(analyst_mcp: McpCaller, pat: str) -> None:
    spending = analyst_mcp.ok(
        "get_spending_by_category", {"customer_oid": pat, "base_currency": "EUR"}
    )
    usd_in_eur = (1 / Decimal("1.0850")).quantize(Decimal("0.0000000001"))  # EUR/USD inverted
    usd_spent = Decimal("99.99") * usd_in_eur  # rounded once, at the end of each total
    assert spending == {
        "customer_oid": pat,
        "from_month": None,
        "to_month": None,
        "months": ["2025-01", "2025-02", "2025-03"],
        "base_currency": "EUR",
        "total": str(to_money(Decimal("2012.40") + usd_spent)),
        "categories": [
            {"category": "rent", "total": "1200.00", "totals_by_currency": {"EUR": "1200.00"}},
            {
                "category": "groceries",
                "total": str(to_money(Decimal("500.00") + usd_spent)),
                "totals_by_currency": {"EUR": "500.00", "USD": "99.99"},
            },
            {"category": "dining", "total": "312.40", "totals_by_currency": {"EUR": "312.40"}},
        ],
        "fx_rates": {"EUR": "1.00", "USD": str(usd_in_eur)},
    }
    january = analyst_mcp.ok(
        "get_spending_by_category",
        {
            "customer_oid": pat,
            "from_month": "2025-01",
            "to_month": "2025-01",
            "base_currency": "USD",
        },
    )
    assert january["months"] == ["2025-01"]
    assert [c["category"] for c in january["categories"]] == ["groceries", "dining"]
    assert january["base_currency"] == "USD"
    assert january["total"] == str(to_money(Decimal("812.40") * Decimal("1.0850")))
    later = analyst_mcp.ok(
        "get_spending_by_category", {"customer_oid": pat, "from_month": "2025-02"}
    )
    assert later["months"] == ["2025-02", "2025-03"]
    nothing = analyst_mcp.ok(
        "get_spending_by_category", {"customer_oid": pat, "to_month": "2024-12"}
    )
    assert (nothing["categories"], nothing["months"], nothing["total"]) == ([], [], "0.00")


def test_spending_by_category_defaults_to_the_reporting_currency(
    analyst_mcp: McpCaller, pat: str
) -> None:
    """Most of Alice's cash is in dollars (50000 USD against 25000 EUR and 1234.57 GBP), so with
    no base_currency asked her spending is totalled in USD, as her portfolio summary is."""
    spending = analyst_mcp.ok("get_spending_by_category", {"customer_oid": pat})
    summary = analyst_mcp.ok("get_portfolio_summary", {"customer_oid": pat})
    assert spending["base_currency"] == summary["base_currency"] == "USD"
    assert spending["fx_rates"] == {"EUR": "1.085", "USD": "1.00"}
    # (500.00 + 312.40 + 1200.00) * 1.0850 + 99.99, rounded once
    assert spending["total"] == "2283.44" == summary["total_spending"]


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"from_month": "2025-13"}, "from_month\n  String should match pattern"),
        ({"to_month": "March"}, "to_month\n  String should match pattern"),
        ({"from_month": "٢٠٢٥-01"}, "from_month\n  String should match pattern"),
        (
            {"from_month": "2025-03", "to_month": "2025-01"},
            "'from_month' must not be after 'to_month'",
        ),
        ({"base_currency": "XYZ"}, "Currency XYZ is not supported"),
    ],
)
def test_get_spending_by_category_refuses_bad_input(
    analyst_mcp: McpCaller, pat: str, arguments: dict[str, Any], expected: str
) -> None:
    message = analyst_mcp.error("get_spending_by_category", {"customer_oid": pat, **arguments})
    assert expected in message


# --- get_account_statement ---------------------------------------------------------------------


def test_get_account_statement_is_the_rest_statement(
    client: TestClient,
    analyst_mcp: McpCaller,
    analyst_headers: dict[str, str],
    admin_headers: dict[str, str],
    customer: AuthedUser,
) -> None:
    savings = open_account(client, customer.headers, "saving")
    deposit(client, admin_headers, customer.iban, "100.00")
    for amount in ("1.00", "2.00", "3.00"):
        moved = client.post(
            "/transfers",
            json=transfer_body(customer.iban, savings, amount),
            headers=customer.headers,
        )
        assert moved.status_code == 201, moved.text
    path = f"/accounts/{customer.iban}/transactions"
    spaced = " ".join(customer.iban[i : i + 4] for i in range(0, len(customer.iban), 4)).lower()
    first = analyst_mcp.ok("get_account_statement", {"iban": spaced, "limit": 2})
    assert first == rest(client, path, analyst_headers, limit=2)
    assert [line["amount"] for line in first["items"]] == ["-3.00", "-2.00"]
    rest_of_it = analyst_mcp.ok(
        "get_account_statement", {"iban": customer.iban, "before": first["next_before"]}
    )
    assert [line["balance_after"] for line in rest_of_it["items"]] == ["99.00", "100.00"]
    assert rest_of_it["next_before"] is None


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"iban": "NL00XXXX"}, "Invalid IBAN: "),
        ({"iban": "not an iban at all"}, "Invalid IBAN: "),
        ({"iban": "NL91ABNA0417164300"}, "Account NL91ABNA0417164300 not found"),
        ({"iban": "{iban}", "before": "garbage"}, "Malformed pagination cursor"),
        ({"iban": "{iban}", "limit": 201}, "limit\n  Input should be less than or equal to 200"),
        ({}, "iban\n  Field required"),
    ],
)
def test_get_account_statement_refuses_bad_input(
    analyst_mcp: McpCaller, customer: AuthedUser, arguments: dict[str, Any], expected: str
) -> None:
    if "iban" in arguments:
        arguments["iban"] = arguments["iban"].format(iban=customer.iban)
    message = analyst_mcp.error("get_account_statement", arguments)
    assert message.startswith("Error executing tool get_account_statement: ")
    assert expected in message


# --- health --------------------------------------------------------------------------------------


def test_health_is_the_rest_health(
    client: TestClient, analyst_mcp: McpCaller, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert analyst_mcp.ok("health") == client.get("/health").json()
    monkeypatch.setattr(health, "database_ok", lambda **_: False)
    assert analyst_mcp.ok("health")["database"] == "unreachable"
    assert client.get("/health").status_code == 503


# --- failures that are not the caller's -------------------------------------------------------


def test_a_database_outage_is_a_tool_error_that_says_so(
    analyst_mcp: McpCaller, pat: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(**_: Any) -> Any:
        raise OperationalError("SELECT", {}, Exception("connection refused"))

    monkeypatch.setattr(portfolio, "get_summary", down)
    message = analyst_mcp.error("get_portfolio_summary", {"customer_oid": pat})
    assert (
        message == f"Error executing tool get_portfolio_summary: {mcp_tools.DATABASE_UNAVAILABLE}"
    )
    assert "connection refused" not in message


def test_an_unexpected_crash_reveals_nothing(
    analyst_mcp: McpCaller, pat: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(**_: Any) -> Any:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(portfolio, "get_summary", crash)
    message = analyst_mcp.error("get_portfolio_summary", {"customer_oid": pat})
    assert message == "Error executing tool get_portfolio_summary"


def test_an_unknown_tool_is_a_tool_error(analyst_mcp: McpCaller) -> None:
    assert analyst_mcp.error("transfer_money", {}) == "Unknown tool: transfer_money"


# --- the 2026 protocol (per-request, no handshake) ---------------------------------------------


def test_the_tools_answer_the_same_over_the_per_request_protocol(
    client: TestClient, analyst_headers: dict[str, str], analyst_mcp: McpCaller, pat: str
) -> None:
    modern = McpCaller(client, analyst_headers, mode="auto")
    assert modern.run(lambda mcp: _version(mcp)) == "2026-07-28"
    assert set(modern.tools()) == set(analyst_mcp.tools())
    arguments = {"customer_oid": pat, "transactions_limit": 5}
    assert modern.ok("get_portfolio", arguments) == analyst_mcp.ok("get_portfolio", arguments)
    assert modern.error("customer_exists", {"customer_oid": "x"}).endswith(
        "Invalid CustomerOID format"
    )


async def _version(mcp: Any) -> str:
    version: str = mcp.protocol_version
    return version
