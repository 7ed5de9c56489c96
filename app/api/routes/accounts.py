from __future__ import annotations

from fastapi import APIRouter, status

from app.api.deps import CurrentCustomerId, SessionDep, SettingsDep
from app.models.account import AccountOpen, AccountPublic, AccountsOverview
from app.schemas.errors import error_responses
from app.services import accounts

router = APIRouter(prefix="/accounts", tags=["accounts"])


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
def overview(customer_id: CurrentCustomerId, session: SessionDep) -> AccountsOverview:
    rows = accounts.list_own_bank_accounts(session=session, customer_id=customer_id)
    return AccountsOverview(
        message=f"{len(rows)} account(s) found" if rows else "No accounts yet",
        accounts=[AccountPublic.model_validate(a) for a in rows],
    )
