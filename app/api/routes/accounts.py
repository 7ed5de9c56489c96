from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Header, Query, status
from fastapi.responses import StreamingResponse
from sqlmodel import Session

from app.api.deps import (
    CredentialDep,
    CurrentCustomerId,
    EngineDep,
    IbanPath,
    ReadableAccount,
    SessionDep,
    SettingsDep,
)
from app.api.openapi import raises
from app.api.routing import api_router, in_worker_thread
from app.core.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from app.core.periods import Period, parse_bound, utc_period
from app.errors import AccountNotFound, Forbidden, MalformedIban
from app.models.account import (
    Account,
    AccountDetail,
    AccountOpen,
    AccountPublic,
    AccountsOverview,
)
from app.schemas.errors import error_responses
from app.schemas.statements import StatementPage
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
@raises(Forbidden)
async def overview(credential: CredentialDep, engine: EngineDep) -> AccountsOverview:
    def read(session: Session) -> AccountsOverview:
        return accounts.overview(session=session, customer_id=credential.customer_id(session))

    return await in_worker_thread(engine, read)


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
    response_model=StatementPage,
    responses={
        **error_responses(400, 401, 404, 422),
        200: {
            "description": "A page of statement lines; with `format=csv` or `Accept: text/csv` "
            "every line in the period as CSV (no `limit`)",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
    },
)
@raises(MalformedIban, AccountNotFound)
async def account_transactions(
    iban: IbanPath,
    credential: CredentialDep,
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
) -> StatementPage | StreamingResponse:
    # The caller and the account are read in the same worker step as the page (one hop); a bad
    # `from` or `to` is a 400 only for a caller who may read the account.
    def readable(session: Session) -> Account:
        return accounts.get_readable(session=session, user=credential.user(session), iban=iban)

    def period() -> Period:
        return utc_period(parse_bound(start, "from"), parse_bound(end, "to"))

    if output == "csv" or (output is None and "text/csv" in (accept or "").lower()):
        account = await in_worker_thread(engine, readable)
        assert account.id is not None
        lines = statements.csv_stream(
            engine=engine, account_id=account.id, before=before, period=period()
        )
        filename = f"{account.iban}-transactions.csv"
        return StreamingResponse(
            lines,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    def page(session: Session) -> StatementPage:
        return statements.page(
            session=session, account=readable(session), limit=limit, before=before, period=period()
        )

    return await in_worker_thread(engine, page)
