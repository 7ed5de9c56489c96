from __future__ import annotations

from typing import Annotated

from fastapi import Query, Response, status
from sqlmodel import Session

from app.api.deps import (
    CredentialDep,
    CurrentCustomerId,
    EngineDep,
    IdempotencyKeyHeader,
    SessionDep,
    SettingsDep,
    TransferId,
    customer_id_of,
    idempotent_response,
)
from app.api.openapi import raises
from app.api.routing import api_router, in_worker_thread
from app.core.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from app.errors import Forbidden
from app.models.transfer import TransferCreate, TransferPublic
from app.schemas.errors import error_responses
from app.schemas.pagination import Page
from app.services import transfers
from app.services.idempotency import Outcome

router = api_router(prefix="/transfers", tags=["transfers"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Transfer money from one of your accounts to any account at this bank",
    responses=error_responses(401, 403, 404, 422),
)
@raises(Forbidden)
async def create_transfer(
    body: TransferCreate,
    credential: CredentialDep,
    engine: EngineDep,
    settings: SettingsDep,
    response: Response,
    idempotency_key: IdempotencyKeyHeader = None,
) -> TransferPublic:
    def create(session: Session) -> Outcome[TransferPublic]:
        user = credential.user(session)
        assert user.id is not None
        return transfers.create(
            session=session,
            settings=settings,
            user_id=user.id,
            customer_id=customer_id_of(user),
            data=body,
            idempotency_key=idempotency_key,
        )

    outcome = await in_worker_thread(engine, create)
    return idempotent_response(response, outcome)


@router.get(
    "",
    summary="Transfers from or to your accounts, newest first",
    responses=error_responses(400, 401, 403),
)
def list_transfers(
    customer_id: CurrentCustomerId,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    before: Annotated[str | None, Query(max_length=200)] = None,
) -> Page[TransferPublic]:
    return transfers.list_for_customer(
        session=session, customer_id=customer_id, limit=limit, before=before
    )


@router.get(
    "/{transfer_id}",
    summary="One transfer from or to your accounts",
    responses=error_responses(400, 401, 403, 404),
)
def get_transfer(
    transfer_id: TransferId, customer_id: CurrentCustomerId, session: SessionDep
) -> TransferPublic:
    return transfers.get(session=session, customer_id=customer_id, transfer_id=transfer_id)


@router.delete(
    "/{transfer_id}",
    summary="Cancel a scheduled transfer from one of your accounts",
    responses=error_responses(400, 401, 403, 404, 409),
)
def cancel_transfer(
    transfer_id: TransferId, customer_id: CurrentCustomerId, session: SessionDep
) -> TransferPublic:
    return transfers.cancel(session=session, customer_id=customer_id, transfer_id=transfer_id)
