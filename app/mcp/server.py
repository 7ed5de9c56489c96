"""The bank's MCP server: the tools, the portfolio-summary resource and the review prompt.

`build_mcp_server` makes one `MCPServer` over an engine and the settings. The HTTP app mounts it
at `/mcp` with a token verifier (analysts and admins only, see `app.mcp.auth`); over stdio
(`python -m app.mcp`) it runs without one, for the local user. Nothing here holds SQL: every
read goes through `app.services`.
"""

from __future__ import annotations

from typing import Annotated

from mcp.server import MCPServer
from mcp.server.auth.provider import TokenVerifier
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS
from pydantic import AnyHttpUrl, Field
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from app.core.config import Settings
from app.core.db import new_session
from app.core.sandbox_context import sandbox_engine
from app.errors import AppError, BadRequest, NotFound
from app.mcp.auth import REQUIRED_SCOPE
from app.mcp.tools import DATABASE_UNAVAILABLE, register_tools
from app.services import customers, portfolio

SUMMARY_URI = "bank://customers/{customer_oid}/summary"

INSTRUCTIONS = """\
Read-only access to a sandbox bank's customers for portfolio analysis (no tool moves money).
Find a customer with list_customers (or check an id with customer_exists), start with
get_portfolio_summary, then get_portfolio for the holdings, accounts, latest transactions,
spending and derivatives. get_transactions pages through older transactions with its cursor,
get_spending_by_category totals spending per category over months, get_account_statement reads
an account's ledger lines by IBAN. Amounts are exact decimal strings, each with its currency;
converted totals name their base_currency and the fx_rates used. The prompt analyze_portfolio
walks through a full review."""

REVIEW_PROMPT = """\
Review the finances of the bank customer with CustomerOID {customer_oid}, using this bank's
MCP tools (read-only).

1. Call get_portfolio_summary with customer_oid "{customer_oid}". If it fails, say why and
   stop. Note base_currency, fx_rates and which sections have data (has_data).
2. Call get_portfolio with the same customer_oid: holdings (assets), bank accounts (here and at
   other institutions), the latest transactions, spending and derivative positions.
3. Call get_spending_by_category over the last twelve months that have data (the spending
   months in the portfolio show which) to rank the categories.
4. Where something stands out (a large category, irregular income, a big movement), call
   get_transactions with from_date, to_date or category; page with before = next_cursor.
5. For accounts at this bank (they have an iban), get_account_statement shows the ledger lines
   with the balance after each one.

Then write the review:{focus}
- Net worth: cash and holdings per currency (totals_by_currency) and converted into
  base_currency, saying which rates were used.
- Allocation: asset types and symbols as a share of the holdings' value; concentration risk.
- Liquidity: cash against monthly spending (months of expenses covered).
- Spending: the main categories, trends over the months, anything unusual.
- Income and cash flow from the transactions (salary, dividends, interest, transfers).
- Derivatives: each open position's type, side, strike, expiry and what it hedges or risks.
- Three to five concrete, prudent observations or questions for the customer.

Amounts are exact decimal strings in their own currency: never add amounts in different
currencies without converting them at the fx_rates given, and quote figures as the tools return
them. This is analysis of sandbox data, not financial advice."""


def build_mcp_server(
    *, engine: Engine, settings: Settings, token_verifier: TokenVerifier | None = None
) -> MCPServer:
    """The MCP server over this database. With `token_verifier`, its HTTP app requires a
    Bearer token with the `analyst` scope (analysts and admins); without, no auth (stdio)."""
    auth = None
    if token_verifier is not None:
        auth = AuthSettings(
            # Only used in OAuth metadata, which this server does not publish (no
            # resource_server_url): tokens come from POST /auth/logon.
            issuer_url=AnyHttpUrl("http://localhost"),
            resource_server_url=None,
            required_scopes=[REQUIRED_SCOPE],
        )
    server: MCPServer = MCPServer(
        name=settings.service_name,
        title=f"{settings.project_name} MCP server",
        instructions=INSTRUCTIONS,
        version=settings.version,
        token_verifier=token_verifier,
        auth=auth,
    )
    register_tools(server, engine=engine, settings=settings)

    @server.resource(
        SUMMARY_URI,
        name="portfolio_summary",
        title="A customer's portfolio summary",
        description="The summary of get_portfolio_summary as JSON, in the customer's reporting "
        "currency (the currency of most of their cash).",
        mime_type="application/json",
    )
    def portfolio_summary(customer_oid: str) -> str:
        try:
            with new_session(sandbox_engine(engine)) as session:
                summary = portfolio.get_summary(
                    session=session,
                    customer_id=customers.parse_customer_oid(customer_oid),
                    base_currency=None,
                    bank_currency=settings.base_currency,
                )
        except (NotFound, BadRequest) as exc:
            raise ResourceNotFoundError(exc.message) from exc
        except AppError as exc:
            raise ResourceError(exc.message) from exc
        except (OperationalError, PoolTimeoutError) as exc:
            raise ResourceError(DATABASE_UNAVAILABLE) from exc
        return summary.model_dump_json()

    @server.prompt(
        name="analyze_portfolio",
        title="Analyze a customer's portfolio",
        description="A step-by-step portfolio review of one customer with this server's tools.",
    )
    def analyze_portfolio(
        customer_oid: Annotated[
            str, Field(description="The customer's CustomerOID (a UUID, from list_customers)")
        ],
        focus: Annotated[
            str | None,
            Field(
                max_length=200,
                description="Optional theme for the review, e.g. retirement, risk, spending",
            ),
        ] = None,
    ) -> str:
        try:
            customer_id = customers.parse_customer_oid(customer_oid)
        except AppError as exc:  # a protocol error with our message, not "Error rendering"
            raise MCPError(code=INVALID_PARAMS, message=exc.message) from exc
        extra = f"\n- Focus on: {focus.strip()}." if focus and focus.strip() else ""
        return REVIEW_PROMPT.format(customer_oid=customer_id, focus=extra)

    return server
