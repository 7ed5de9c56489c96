"""Standing orders: a customer's weekly or monthly payments, run by the sandbox's clock."""

from __future__ import annotations

from fastapi import Response, status
from sqlmodel import Session

from app.api.deps import (
    CredentialDep,
    CurrentCustomerId,
    EngineDep,
    IdempotencyKeyHeader,
    SessionDep,
    SettingsDep,
    StandingOrderId,
    customer_id_of,
    idempotent_response,
)
from app.api.openapi import raises
from app.api.routing import api_router, in_worker_thread
from app.errors import Forbidden
from app.models.standing_order import (
    StandingOrderCreate,
    StandingOrderDetail,
    StandingOrderPublic,
)
from app.schemas.errors import error_responses
from app.services import standing_orders
from app.services.idempotency import Outcome

router = api_router(prefix="/standing-orders", tags=["standing orders"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Pay the same amount every week or month from one of your accounts",
    responses=error_responses(401, 403, 404, 422),
)
@raises(Forbidden)
async def create_standing_order(
    body: StandingOrderCreate,
    credential: CredentialDep,
    engine: EngineDep,
    settings: SettingsDep,
    response: Response,
    idempotency_key: IdempotencyKeyHeader = None,
) -> StandingOrderPublic:
    def create(session: Session) -> Outcome[StandingOrderPublic]:
        user = credential.user(session)
        assert user.id is not None
        return standing_orders.create(
            session=session,
            settings=settings,
            user_id=user.id,
            customer_id=customer_id_of(user),
            data=body,
            idempotency_key=idempotency_key,
        )

    outcome = await in_worker_thread(engine, create)
    return idempotent_response(response, outcome)


@router.get("", summary="Your standing orders, newest first", responses=error_responses(401, 403))
def list_standing_orders(
    customer_id: CurrentCustomerId, session: SessionDep
) -> list[StandingOrderPublic]:
    return standing_orders.list_for_customer(session=session, customer_id=customer_id)


@router.get(
    "/{order_id}",
    summary="One of your standing orders, with every occurrence run so far",
    responses=error_responses(400, 401, 403, 404),
)
def get_standing_order(
    order_id: StandingOrderId, customer_id: CurrentCustomerId, session: SessionDep
) -> StandingOrderDetail:
    return standing_orders.get(session=session, customer_id=customer_id, order_id=order_id)


@router.delete(
    "/{order_id}",
    summary="Cancel one of your standing orders: no occurrence runs after this",
    responses=error_responses(400, 401, 403, 404, 409),
)
def cancel_standing_order(
    order_id: StandingOrderId, customer_id: CurrentCustomerId, session: SessionDep
) -> StandingOrderPublic:
    return standing_orders.cancel(session=session, customer_id=customer_id, order_id=order_id)
