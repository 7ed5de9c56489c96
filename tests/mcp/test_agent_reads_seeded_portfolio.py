"""The portfolio-analysis use case end to end: an agent reads John Doe's portfolio over MCP.

The database is seeded by `seed.py` (the five sample customers, the demo staff), the agent
logs on as the demo analyst, and the SDK's client must get from `get_portfolio` exactly what
`GET /user-portfolio/{customer_oid}` returns: the same holdings and the same summary.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

import seed
from app.core.config import Settings
from tests.utils.auth import logon_headers
from tests.utils.mcp import McpCaller

JOHN = "550e8400-e29b-41d4-a716-446655440001"


@pytest.fixture
def seeded(client: TestClient, settings: Settings) -> None:
    seed.main(["--customers", "0", "--bcrypt-rounds", "4"], settings)


@pytest.mark.parametrize(
    ("username", "password"),
    [("demo.analyst", "demo-analyst-password"), ("demo.admin", "demo-admin-password")],
)
def test_get_portfolio_for_john_doe_equals_the_rest_portfolio(
    client: TestClient, seeded: None, username: str, password: str
) -> None:
    headers = logon_headers(client, username, password)
    agent = McpCaller(client, headers)
    assert "get_portfolio" in agent.tools()

    found = agent.ok("list_customers", {"name_contains": "john doe"})
    assert found["customers"] == [{"customer_oid": JOHN, "name": "John Doe"}]

    response = client.get(f"/user-portfolio/{JOHN}", headers=headers)
    assert response.status_code == 200, response.text
    rest = response.json()
    mcp = agent.ok("get_portfolio", {"customer_oid": JOHN})

    assert mcp["assets"] == rest["assets"]
    assert mcp["portfolio_summary"] == rest["portfolio_summary"]
    assert mcp == rest  # and everything else: accounts, transactions, spending, derivatives
    # What the source document and the README say John Doe holds.
    assert {asset["symbol"] for asset in mcp["assets"]} == {"AAPL", "GOOGL", "US10Y", "BTC", "SPY"}
    summary = mcp["portfolio_summary"]
    assert (summary["total_assets"], summary["total_transactions"]) == (5, 10)
    # In his reporting currency, USD (most of his cash): 50000 + 25000 EUR * 1.0850.
    assert summary["base_currency"] == "USD"
    assert summary["total_cash_balance"] == "77125.00"
    assert summary["total_spending"] == "2500.00"
    assert summary["totals_by_currency"]["USD"]["cash_balance"] == "50000.00"
    assert agent.ok("get_portfolio_summary", {"customer_oid": JOHN}) == rest["portfolio_summary"]


def test_john_doe_over_mcp_with_a_customers_token_is_refused(
    client: TestClient, seeded: None
) -> None:
    john = logon_headers(client, "john.doe", "sandbox-password")
    # John may read his own portfolio over REST, but the MCP endpoint is for analysts and admins.
    assert client.get(f"/user-portfolio/{JOHN}", headers=john).status_code == 200
    response = client.post(
        "/mcp",
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        headers={"Accept": "application/json, text/event-stream", **john},
    )
    assert response.status_code == 403
