from __future__ import annotations

from fastapi import Response, status

from app.api.deps import (
    NO_STORE,
    ClientAddress,
    CurrentCustomerId,
    CurrentUser,
    SessionDep,
    SettingsDep,
)
from app.api.routing import api_router
from app.models.account import AccountPublic
from app.models.customer import CustomerPublic, CustomerRegister, CustomerRegistered
from app.schemas.errors import error_responses
from app.services import customers

router = api_router(prefix="/customers", tags=["customers"])


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    summary="Register a customer (KYC) with a login and a first checking account",
    responses=error_responses(403, 409, 422, 429, 503),
)
async def register(
    body: CustomerRegister,
    session: SessionDep,
    settings: SettingsDep,
    address: ClientAddress,
    response: Response,
) -> CustomerRegistered:
    result = await customers.register(
        session=session, settings=settings, data=body, address=address
    )
    response.headers.update(NO_STORE)
    return CustomerRegistered(
        customer_oid=result.customer.id,
        username=result.user.username,
        password=result.password,
        account=AccountPublic.model_validate(result.account),
    )


@router.get(
    "/me",
    summary="The caller's own profile (ID document masked)",
    responses=error_responses(401, 403),
)
def me(customer_id: CurrentCustomerId, user: CurrentUser, session: SessionDep) -> CustomerPublic:
    customer = customers.get(session=session, customer_id=customer_id)
    return CustomerPublic.model_validate(
        customer, update={"customer_oid": customer.id, "username": user.username}
    )
