"""Admin: sandbox funding. Gated to admins once, where the router is included."""

from __future__ import annotations

from fastapi import Response, status

from app.api.deps import (
    CurrentUser,
    IdempotencyKeyHeader,
    PathIban,
    SessionDep,
    SettingsDep,
    idempotent_response,
)
from app.api.routing import api_router
from app.schemas.errors import error_responses
from app.schemas.funding import FundingPublic, FundingRequest
from app.services import funding

router = api_router(prefix="/admin/accounts", tags=["admin"])


@router.post(
    "/{iban:iban}/deposit",
    status_code=status.HTTP_201_CREATED,
    summary="Put sandbox money into an account at this bank",
    responses=error_responses(400, 401, 403, 404, 422),
)
def deposit(
    iban: PathIban,
    body: FundingRequest,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
    idempotency_key: IdempotencyKeyHeader = None,
) -> FundingPublic:
    assert user.id is not None
    outcome = funding.deposit(
        session=session,
        settings=settings,
        user_id=user.id,
        iban=iban,
        data=body,
        idempotency_key=idempotency_key,
    )
    return idempotent_response(response, outcome)


@router.post(
    "/{iban:iban}/withdraw",
    status_code=status.HTTP_201_CREATED,
    summary="Take sandbox money out of an account at this bank (never below zero)",
    responses=error_responses(400, 401, 403, 404, 422),
)
def withdraw(
    iban: PathIban,
    body: FundingRequest,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
    idempotency_key: IdempotencyKeyHeader = None,
) -> FundingPublic:
    assert user.id is not None
    outcome = funding.withdraw(
        session=session,
        settings=settings,
        user_id=user.id,
        iban=iban,
        data=body,
        idempotency_key=idempotency_key,
    )
    return idempotent_response(response, outcome)
