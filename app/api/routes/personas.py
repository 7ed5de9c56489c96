"""Personas, for the sandbox's admins: give a customer a life that the sandbox's clock lives."""

from __future__ import annotations

from fastapi import Response, status

from app.api.deps import AdminUser, CustomerOidPath, SessionDep
from app.api.routing import api_router
from app.models.persona import PersonaCreate, PersonaPublic
from app.schemas.errors import error_responses
from app.services import personas

router = api_router(prefix="/sandbox/simulate/persona", tags=["personas"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Give a customer a life: income, rent, bills and card spending as time passes",
    responses=error_responses(401, 403, 404, 409, 422),
)
def create_persona(body: PersonaCreate, _: AdminUser, session: SessionDep) -> PersonaPublic:
    return personas.create(session=session, data=body)


@router.get("", summary="The customers that have a life", responses=error_responses(401, 403))
def list_personas(_: AdminUser, session: SessionDep) -> list[PersonaPublic]:
    return personas.list_all(session=session)


@router.delete(
    "/{customer_oid}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Stop a customer's life (what it brought stays)",
    responses=error_responses(400, 401, 403, 404),
)
def delete_persona(_: AdminUser, customer_oid: CustomerOidPath, session: SessionDep) -> Response:
    personas.delete(session=session, customer_id=customer_oid)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
