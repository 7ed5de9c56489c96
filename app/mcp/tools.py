"""The MCP tools: read-only views of the bank for analysis agents.

Each tool parses its arguments, calls the same service function as the matching REST route and
returns the same public model, so its structured output is the REST response's JSON (money as
decimal strings). Domain errors (`AppError`: a malformed CustomerOID, an unknown customer, a bad
IBAN or cursor...) come back as tool errors carrying the REST API's message; an unreachable
database as "Database unavailable, try again later". Sync tools run in the SDK's worker threads,
so the database is never read on the event loop.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated, Any, TypeVar

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from pydantic import Field
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlmodel import Session

from app.core.config import Settings
from app.core.db import new_session
from app.core.pagination import DEFAULT_PAGE_SIZE, MAX_OFFSET, MAX_PAGE_SIZE
from app.core.sandbox_context import sandbox_engine
from app.errors import AppError
from app.models.customer import CustomerExists, CustomerListItem
from app.models.spending import MONTH_PATTERN
from app.schemas.customers import CustomerList
from app.schemas.health import HealthResponse
from app.schemas.portfolio import Portfolio, PortfolioSummary, SpendingByCategory, TransactionPage
from app.schemas.statements import StatementPage
from app.services import accounts, customers, health, portfolio, sandboxes, statements

F = TypeVar("F", bound=Callable[..., Any])

DATABASE_UNAVAILABLE = "Database unavailable, try again later"
MAX_CUSTOMERS_PAGE = 1000  # as GET /customers

READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)

CustomerOid = Annotated[
    str,
    Field(
        max_length=64,
        description="The customer's CustomerOID, a UUID such as "
        "550e8400-e29b-41d4-a716-446655440001 (from list_customers)",
    ),
]
BaseCurrency = Annotated[
    str | None,
    Field(
        min_length=3,
        max_length=3,
        description="ISO 4217 currency of the converted totals (e.g. EUR, USD); default: the "
        "customer's reporting currency, the currency of most of their cash (the bank's "
        "BASE_CURRENCY on a tie or with no cash)",
    ),
]
Month = Annotated[
    str | None,
    Field(pattern=MONTH_PATTERN, description="A month as YYYY-MM (e.g. 2025-03)"),
]
Cursor = Annotated[
    str | None,
    Field(
        max_length=200,
        description="Opaque cursor from the previous page, to continue with older items; omit "
        "for the newest page",
    ),
]


@contextmanager
def tool_errors() -> Iterator[None]:
    """Turn what a service raises into a tool error the agent can read and act on."""
    try:
        yield
    except AppError as exc:
        raise ToolError(exc.message) from exc
    except (OperationalError, PoolTimeoutError) as exc:
        raise ToolError(DATABASE_UNAVAILABLE) from exc


def register_tools(server: MCPServer, *, engine: Engine, settings: Settings) -> None:
    def tool(title: str, name: str | None = None) -> Callable[[F], F]:
        """Register a read-only tool described by its docstring (without the indentation)."""

        def register(fn: F) -> F:
            server.add_tool(
                fn,
                name=name,
                title=title,
                description=inspect.cleandoc(fn.__doc__ or ""),
                annotations=READ_ONLY,
            )
            return fn

        return register

    @contextmanager
    def reading() -> Iterator[Session]:
        with tool_errors(), new_session(sandbox_engine(engine)) as session:
            yield session

    @tool("List customers")
    def list_customers(
        limit: Annotated[
            int, Field(ge=1, le=MAX_CUSTOMERS_PAGE, description="Customers per page")
        ] = 100,
        offset: Annotated[
            int, Field(ge=0, le=MAX_OFFSET, description="How many matching customers to skip")
        ] = 0,
        name_contains: Annotated[
            str | None,
            Field(max_length=100, description="Only customers whose name contains this (any case)"),
        ] = None,
    ) -> CustomerList:
        """List the bank's customers by name (ignoring case), a page at a time.

        Returns each customer's `customer_oid` (the id every other tool takes) and `name`, and
        `total`, the number of customers that match on all pages: page on with `offset`.
        """
        with reading() as session:
            page = customers.list_customers(
                session=session, limit=limit, offset=offset, name=name_contains
            )
        return CustomerList(
            customers=[CustomerListItem(customer_oid=c.id, name=c.name) for c in page.items],
            total=page.total,
            limit=limit,
            offset=offset,
        )

    @tool("Does a customer exist")
    def customer_exists(customer_oid: CustomerOid) -> CustomerExists:
        """Check whether a CustomerOID belongs to a customer, and get its name.

        Cheap: answers `exists: false` (not an error) for an unknown but well-formed UUID; a
        malformed one is an error.
        """
        with reading() as session:
            customer_id = customers.parse_customer_oid(customer_oid)
            return customers.check_exists(session=session, customer_id=customer_id)

    @tool("A customer's whole portfolio")
    def get_portfolio(
        customer_oid: CustomerOid,
        transactions_limit: Annotated[
            int,
            Field(
                ge=0,
                le=portfolio.MAX_TRANSACTIONS_LIMIT,
                description="How many of the latest transactions to embed (totals count all)",
            ),
        ] = portfolio.DEFAULT_TRANSACTIONS_LIMIT,
        base_currency: BaseCurrency = None,
    ) -> Portfolio:
        """A customer's whole financial picture, exactly as GET /user-portfolio/{customer_oid}.

        Holdings (`assets`), bank accounts here and at other institutions, the latest
        transactions (newest first; `transactions_next_cursor` continues with get_transactions),
        spending by month and category, derivative positions, and `portfolio_summary`. Amounts
        are decimal strings, each with its `currency`; the summary's converted totals are in
        `base_currency` at the listed `fx_rates`, `totals_by_currency` has the exact sums.
        """
        with reading() as session:
            return portfolio.get_portfolio(
                session=session,
                customer_id=customers.parse_customer_oid(customer_oid),
                base_currency=base_currency,
                bank_currency=settings.base_currency,
                transactions_limit=transactions_limit,
            )

    @tool("A portfolio's summary")
    def get_portfolio_summary(
        customer_oid: CustomerOid, base_currency: BaseCurrency = None
    ) -> PortfolioSummary:
        """Only the summary of a customer's portfolio: cheap, whatever the history holds.

        Totals (cash, spending, holdings' value) converted into `base_currency` and exact per
        currency, the counts of holdings, accounts, transactions, spending categories and
        derivative positions, and which sections have data. Start a review here.
        """
        with reading() as session:
            return portfolio.get_summary(
                session=session,
                customer_id=customers.parse_customer_oid(customer_oid),
                base_currency=base_currency,
                bank_currency=settings.base_currency,
            )

    @tool("A customer's transactions")
    def get_transactions(
        customer_oid: CustomerOid,
        limit: Annotated[
            int, Field(ge=1, le=portfolio.MAX_PAGE_LIMIT, description="Transactions per page")
        ] = portfolio.DEFAULT_PAGE_LIMIT,
        before: Cursor = None,
        from_date: Annotated[
            date | None, Field(description="First day included (UTC), YYYY-MM-DD")
        ] = None,
        to_date: Annotated[
            date | None, Field(description="Last day included (UTC), YYYY-MM-DD")
        ] = None,
        category: Annotated[
            str | None,
            Field(max_length=50, description="Only this category, e.g. groceries, dining, rent"),
        ] = None,
    ) -> TransactionPage:
        """A customer's transactions newest first, a page at a time, as
        GET /user-portfolio/{customer_oid}/transactions.

        Amounts are signed (positive: money in). Pass the page's `next_cursor` as `before` for
        the next, older page; it is null on the last one. Filters: a date range and a category.
        """
        with reading() as session:
            return portfolio.list_transactions(
                session=session,
                customer_id=customers.parse_customer_oid(customer_oid),
                limit=limit,
                before=before,
                date_from=from_date,
                date_to=to_date,
                category=category,
            )

    @tool("Spending by category")
    def get_spending_by_category(
        customer_oid: CustomerOid,
        from_month: Month = None,
        to_month: Month = None,
        base_currency: BaseCurrency = None,
    ) -> SpendingByCategory:
        """What a customer spent per category over a range of months, the largest first.

        Both months are included; leave one out for an open range. Each category has its exact
        totals per currency and `total` converted into `base_currency`; `months` lists the
        months in the range that have spending.
        """
        with reading() as session:
            return portfolio.spending_by_category(
                session=session,
                customer_id=customers.parse_customer_oid(customer_oid),
                base_currency=base_currency,
                bank_currency=settings.base_currency,
                from_month=from_month,
                to_month=to_month,
            )

    @tool("An account's statement")
    def get_account_statement(
        iban: Annotated[
            str,
            Field(
                max_length=50,
                description="IBAN of an account at this bank (spaces and case do not matter)",
            ),
        ],
        limit: Annotated[
            int, Field(ge=1, le=MAX_PAGE_SIZE, description="Statement lines per page")
        ] = DEFAULT_PAGE_SIZE,
        before: Cursor = None,
    ) -> StatementPage:
        """The statement of an account at this bank, newest line first, as
        GET /accounts/{iban}/transactions.

        Each line is one posting of the double-entry ledger: signed amount, balance after it,
        counterparty and description. Pass `next_before` as `before` for the next, older page.
        With the lines: the booked and available balances and the card payments still held.
        Accounts at other institutions (no IBAN in the portfolio) have no statement here.
        """
        with reading() as session:
            account = accounts.get_by_iban(session=session, iban=iban)
            return statements.page(session=session, account=account, limit=limit, before=before)

    # Named `health` for the agent; the function is not, so it does not shadow the module.
    @tool("Service health", name="health")
    def health_check() -> HealthResponse:
        """Whether the bank's service and its database are up, with the service's version."""
        with reading() as session:
            return health.status(
                session=session,
                settings=settings,
                live_sandboxes=lambda: sandboxes.count_live(engine),
            )
