"""Card payments, simulated by the sandbox's admins: a hold now, booked when it settles."""

from __future__ import annotations

from fastapi import status

from app.api.deps import AdminUser, CardPaymentId, SessionDep, SettingsDep
from app.api.routing import api_router
from app.models.card_payment import CardPaymentCreate, CardPaymentPublic
from app.schemas.errors import error_responses
from app.services import card_payments

router = api_router(prefix="/sandbox/simulate/card-payment", tags=["card payments"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="A card payment from an account: held now, booked when it settles",
    responses=error_responses(401, 403, 404, 422),
)
def hold_card_payment(
    body: CardPaymentCreate, _: AdminUser, session: SessionDep, settings: SettingsDep
) -> CardPaymentPublic:
    return card_payments.hold(session=session, settings=settings, data=body)


@router.get(
    "/{payment_id}",
    summary="One card payment and where it stands",
    responses=error_responses(400, 401, 403, 404),
)
def get_card_payment(
    payment_id: CardPaymentId, _: AdminUser, session: SessionDep
) -> CardPaymentPublic:
    return card_payments.get(session=session, payment_id=payment_id)


@router.post(
    "/{payment_id}/settle",
    summary="Book a held card payment now, before its settlement date",
    responses=error_responses(400, 401, 403, 404, 409),
)
def settle_card_payment(
    payment_id: CardPaymentId, _: AdminUser, session: SessionDep
) -> CardPaymentPublic:
    return card_payments.settle(session=session, payment_id=payment_id)


@router.post(
    "/{payment_id}/release",
    summary="Lift a card payment's hold: nothing is booked",
    responses=error_responses(400, 401, 403, 404, 409),
)
def release_card_payment(
    payment_id: CardPaymentId, _: AdminUser, session: SessionDep
) -> CardPaymentPublic:
    return card_payments.release(session=session, payment_id=payment_id)
