"""Portfolios (the portfolio-analysis API): the whole picture in one call, and transactions
page by page."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from sqlmodel import Session

from app.api.deps import (
    CredentialDep,
    CustomerOid,
    EngineDep,
    PortfolioCustomerId,
    SessionDep,
    SettingsDep,
    portfolio_customer_id,
)
from app.api.openapi import raises
from app.api.routing import api_router, in_worker_thread
from app.core.identifiers import CURRENCY_SCHEMA
from app.core.periods import IsoDate
from app.errors import CustomerNotFound, Forbidden, InvalidCustomerOid
from app.models.portfolio_transaction import TransactionType
from app.schemas.errors import error_responses
from app.schemas.portfolio import Portfolio, TransactionPage
from app.services import portfolio

router = api_router(tags=["portfolio"])

TransactionsLimit = Annotated[
    int,
    Query(
        ge=0,
        le=portfolio.MAX_TRANSACTIONS_LIMIT,
        description="How many of the latest transactions to embed (the totals count all)",
    ),
]
BaseCurrency = Annotated[
    str | None,
    Query(
        min_length=3,
        max_length=3,
        description="Currency of the summary's converted totals (ISO 4217, any case). Default: "
        "the customer's reporting currency, the currency of most of their cash (balances valued "
        "at the bank's BASE_CURRENCY; that currency on a tie or with no cash), so a customer "
        "whose money is in one currency reads plain sums in it",
        json_schema_extra=CURRENCY_SCHEMA,
    ),
]


@router.get(
    "/user-portfolio/{customer_oid}",
    summary="A customer's portfolio: holdings, accounts, transactions, spending, derivatives",
    responses=error_responses(400, 401, 404, 422),
)
@raises(InvalidCustomerOid, CustomerNotFound)
async def user_portfolio(
    customer_oid: CustomerOid,
    credential: CredentialDep,
    engine: EngineDep,
    settings: SettingsDep,
    transactions_limit: TransactionsLimit = portfolio.DEFAULT_TRANSACTIONS_LIMIT,
    base_currency: BaseCurrency = None,
) -> Portfolio:
    def read(session: Session) -> Portfolio:
        customer_id = portfolio_customer_id(credential.user(session), customer_oid)
        return portfolio.get_portfolio(
            session=session,
            customer_id=customer_id,
            base_currency=base_currency,
            bank_currency=settings.base_currency,
            transactions_limit=transactions_limit,
        )

    return await in_worker_thread(engine, read)


@router.get(
    "/portfolio",
    summary="The caller's own portfolio (customers only)",
    responses=error_responses(401, 403, 422),
)
@raises(Forbidden)
async def own_portfolio(
    credential: CredentialDep,
    engine: EngineDep,
    settings: SettingsDep,
    transactions_limit: TransactionsLimit = portfolio.DEFAULT_TRANSACTIONS_LIMIT,
    base_currency: BaseCurrency = None,
) -> Portfolio:
    def read(session: Session) -> Portfolio:
        return portfolio.get_portfolio(
            session=session,
            customer_id=credential.customer_id(session),
            base_currency=base_currency,
            bank_currency=settings.base_currency,
            transactions_limit=transactions_limit,
        )

    return await in_worker_thread(engine, read)


@router.get(
    "/user-portfolio/{customer_oid}/transactions",
    summary="Transactions newest first, a page at a time (keyset cursor `before`)",
    responses=error_responses(400, 401, 404, 422),
)
def user_transactions(
    customer_id: PortfolioCustomerId,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=portfolio.MAX_PAGE_LIMIT)] = portfolio.DEFAULT_PAGE_LIMIT,
    before: Annotated[
        str | None,
        Query(max_length=200, description="`next_cursor` of the previous page"),
    ] = None,
    date_from: Annotated[
        IsoDate | None, Query(alias="from", description="First day included (UTC)")
    ] = None,
    date_to: Annotated[
        IsoDate | None, Query(alias="to", description="Last day included (UTC)")
    ] = None,
    transaction_type: Annotated[TransactionType | None, Query(alias="type")] = None,
    category: Annotated[str | None, Query(max_length=50)] = None,
) -> TransactionPage:
    return portfolio.list_transactions(
        session=session,
        customer_id=customer_id,
        limit=limit,
        before=before,
        date_from=date_from,
        date_to=date_to,
        transaction_type=transaction_type,
        category=category,
    )
