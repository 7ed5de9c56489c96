from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Header, Query, status
from fastapi.responses import StreamingResponse

from app.api.deps import (
    CurrentCustomerId,
    EngineDep,
    ReadableAccount,
    SessionDep,
    SettingsDep,
)
from app.api.routing import api_router, in_worker_thread
from app.core.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from app.core.periods import parse_bound, utc_period
from app.models.account import AccountDetail, AccountOpen, AccountPublic, AccountsOverview
from app.models.posting import PostingPublic
from app.schemas.errors import error_responses
from app.schemas.pagination import Page
from app.services import accounts, statements

router = api_router(prefix="/accounts", tags=["accounts"])


@router.post(
    "/open",
    status_code=status.HTTP_201_CREATED,
    summary="Open an account (one per type) in a supported currency",
    responses=error_responses(401, 403, 409, 422),
)
def open_account(
    body: AccountOpen,
    customer_id: CurrentCustomerId,
    session: SessionDep,
    settings: SettingsDep,
) -> AccountPublic:
    account = accounts.open_account(
        session=session,
        settings=settings,
        customer_id=customer_id,
        account_type=body.account_type,
        currency=body.currency,
    )
    return AccountPublic.model_validate(account)


@router.get(
    "/overview",
    summary="The caller's accounts at this bank with their balances",
    responses=error_responses(401, 403),
)
async def overview(customer_id: CurrentCustomerId, session: SessionDep) -> AccountsOverview:
    return await in_worker_thread(session, accounts.overview, customer_id=customer_id)


# The static routes above come first, so `/accounts/open` and `/accounts/overview` are not IBANs.


@router.get(
    "/{iban:iban}",
    summary="One account: its owner, analysts and admins",
    responses=error_responses(400, 401, 404),
)
def account_detail(account: ReadableAccount, session: SessionDep) -> AccountDetail:
    return accounts.detail(session=session, account=account)


@router.get(
    "/{iban:iban}/transactions",
    summary="The account's statement, newest first (JSON pages, or CSV)",
    response_model=Page[PostingPublic],
    responses={
        **error_responses(400, 401, 404, 422),
        200: {
            "description": "A page of statement lines; with `format=csv` or `Accept: text/csv` "
            "every line in the period as CSV (no `limit`)",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
    },
)
async def account_transactions(
    account: ReadableAccount,
    session: SessionDep,
    engine: EngineDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    before: Annotated[
        str | None, Query(max_length=200, description="`next_before` of the previous page")
    ] = None,
    start: Annotated[
        str | None,
        Query(
            alias="from",
            max_length=40,
            description="From this date or date-time on (ISO 8601; UTC if no zone)",
            examples=["2026-03-01"],
        ),
    ] = None,
    end: Annotated[
        str | None,
        Query(
            alias="to",
            max_length=40,
            description="Up to and including this date (the whole day) or date-time",
            examples=["2026-03-31"],
        ),
    ] = None,
    output: Annotated[Literal["json", "csv"] | None, Query(alias="format")] = None,
    accept: Annotated[str | None, Header()] = None,
) -> Page[PostingPublic] | StreamingResponse:
    period = utc_period(parse_bound(start, "from"), parse_bound(end, "to"))
    assert account.id is not None
    if output == "csv" or (output is None and "text/csv" in (accept or "").lower()):
        lines = statements.csv_stream(
            engine=engine, account_id=account.id, before=before, period=period
        )
        filename = f"{account.iban}-transactions.csv"
        return StreamingResponse(
            lines,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return await in_worker_thread(
        session,
        statements.page,
        account_id=account.id,
        limit=limit,
        before=before,
        period=period,
    )
