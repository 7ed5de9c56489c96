"""The portfolio-summary resource and the analyze_portfolio prompt, through the SDK's client."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from mcp.shared.exceptions import MCPError
from mcp_types import INTERNAL_ERROR, INVALID_PARAMS, TextContent, TextResourceContents
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from app.services import portfolio
from tests.utils.mcp import McpCaller
from tests.utils.portfolio import add_asset, add_customer, add_spending

UNKNOWN_OID = "550e8400-e29b-41d4-a716-446655440099"


@pytest.fixture
def pat(session: Session) -> str:
    customer_id = add_customer(session, "Pat Portfolio")
    add_asset(session, customer_id, "AAPL", quantity="10", value="1500.00")
    add_spending(session, customer_id, "groceries", month="2025-01", amount="42.00")
    return str(customer_id)


def summary_uri(oid: str) -> str:
    return f"bank://customers/{oid}/summary"


def test_the_summary_resource_is_a_template(analyst_mcp: McpCaller) -> None:
    async def templates(mcp: object) -> list[object]:
        return list((await mcp.list_resource_templates()).resource_templates)  # type: ignore[attr-defined]

    (template,) = analyst_mcp.run(templates)
    assert template.uri_template == "bank://customers/{customer_oid}/summary"  # type: ignore[attr-defined]
    assert template.mime_type == "application/json"  # type: ignore[attr-defined]


def test_reading_the_summary_resource_gives_the_summary(analyst_mcp: McpCaller, pat: str) -> None:
    result = analyst_mcp.read(summary_uri(pat))
    (contents,) = result.contents
    assert isinstance(contents, TextResourceContents)
    assert contents.mime_type == "application/json"
    assert str(contents.uri) == summary_uri(pat)
    summary = json.loads(contents.text)
    assert summary == analyst_mcp.ok("get_portfolio_summary", {"customer_oid": pat})
    assert summary["total_assets"] == 1
    assert summary["totals_by_currency"]["USD"]["assets_value"] == "1500.00"


@pytest.mark.parametrize(
    ("oid", "message"),
    [
        (UNKNOWN_OID, f"Customer with CustomerOID '{UNKNOWN_OID}' not found"),
        ("not-a-uuid", "Invalid CustomerOID format"),
    ],
)
def test_reading_an_unknown_or_malformed_customer_is_an_error(
    analyst_mcp: McpCaller, oid: str, message: str
) -> None:
    with pytest.raises(MCPError) as raised:
        analyst_mcp.read(summary_uri(oid))
    assert raised.value.code == INVALID_PARAMS
    assert raised.value.message == message


def test_a_database_outage_while_reading_says_so(
    analyst_mcp: McpCaller, pat: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(**_: object) -> object:
        raise OperationalError("SELECT", {}, Exception("refused"))

    monkeypatch.setattr(portfolio, "get_summary", down)
    with pytest.raises(MCPError) as raised:
        analyst_mcp.read(summary_uri(pat))
    assert raised.value.message == "Database unavailable, try again later"


def test_a_base_currency_setting_without_support_is_a_resource_error(
    make_client: Callable[..., TestClient], analyst_headers: dict[str, str], pat: str
) -> None:
    yen = McpCaller(make_client(base_currency="JPY"), analyst_headers)  # JPY: not supported
    with pytest.raises(MCPError) as raised:
        yen.read(summary_uri(pat))
    assert raised.value.code == INTERNAL_ERROR
    assert raised.value.message == "Currency JPY is not supported"


def test_the_prompt_is_listed_with_its_arguments(analyst_mcp: McpCaller) -> None:
    async def prompts(mcp: object) -> list[object]:
        return list((await mcp.list_prompts()).prompts)  # type: ignore[attr-defined]

    (prompt,) = analyst_mcp.run(prompts)
    assert prompt.name == "analyze_portfolio"  # type: ignore[attr-defined]
    arguments = {a.name: a for a in prompt.arguments}  # type: ignore[attr-defined]
    assert arguments["customer_oid"].required is True
    assert arguments["focus"].required is False
    assert "CustomerOID" in arguments["customer_oid"].description


def test_the_prompt_walks_through_a_review_with_the_tools(analyst_mcp: McpCaller, pat: str) -> None:
    result = analyst_mcp.prompt("analyze_portfolio", {"customer_oid": pat.upper()})
    (message,) = result.messages
    assert message.role == "user"
    assert isinstance(message.content, TextContent)
    text = message.content.text
    assert f'customer_oid "{pat}"' in text  # the canonical form
    for tool in (
        "get_portfolio_summary",
        "get_portfolio",
        "get_spending_by_category",
        "get_transactions",
        "get_account_statement",
    ):
        assert tool in text
    assert "Focus on" not in text
    focused = analyst_mcp.prompt("analyze_portfolio", {"customer_oid": pat, "focus": " risk "})
    assert "- Focus on: risk." in focused.messages[0].content.text  # type: ignore[union-attr]


def test_the_prompt_refuses_a_malformed_or_missing_customer_oid(analyst_mcp: McpCaller) -> None:
    with pytest.raises(MCPError) as raised:
        analyst_mcp.prompt("analyze_portfolio", {"customer_oid": "42"})
    assert raised.value.code == INVALID_PARAMS
    assert raised.value.message == "Invalid CustomerOID format"
    with pytest.raises(MCPError) as missing:
        analyst_mcp.prompt("analyze_portfolio", {})
    assert "customer_oid" in missing.value.message
    with pytest.raises(MCPError):
        analyst_mcp.prompt("analyze_portfolio", {"customer_oid": UNKNOWN_OID, "focus": "x" * 201})
