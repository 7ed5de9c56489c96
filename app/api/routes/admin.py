"""Admin: reference data. The router is gated to admins once, where it is included."""

from __future__ import annotations

from fastapi import APIRouter, status

from app.api.deps import SessionDep
from app.models.country import AllowedCountryCreate, AllowedCountryPublic
from app.models.currency import CurrencyCreate, CurrencyPublic
from app.schemas.errors import error_responses
from app.services import reference

router = APIRouter(prefix="/admin", tags=["admin"])


@router.get("/countries", summary="List allowed countries")
def list_countries(session: SessionDep) -> list[AllowedCountryPublic]:
    return [
        AllowedCountryPublic.model_validate(c) for c in reference.list_countries(session=session)
    ]


@router.post(
    "/countries",
    status_code=status.HTTP_201_CREATED,
    summary="Allow registrations from a country (ISO 3166-1 alpha-2)",
    responses=error_responses(409, 422),
)
def add_country(body: AllowedCountryCreate, session: SessionDep) -> AllowedCountryPublic:
    country = reference.add_country(session=session, iso_code=body.iso_code)
    return AllowedCountryPublic.model_validate(country)


@router.delete(
    "/countries/{iso_code}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Stop allowing registrations from a country",
    responses=error_responses(404),
)
def delete_country(iso_code: str, session: SessionDep) -> None:
    reference.delete_country(session=session, iso_code=iso_code)


@router.get("/currencies", summary="List supported currencies")
def list_currencies(session: SessionDep) -> list[CurrencyPublic]:
    return [CurrencyPublic.model_validate(c) for c in reference.list_currencies(session=session)]


@router.post(
    "/currencies",
    status_code=status.HTTP_201_CREATED,
    summary="Support a currency (ISO 4217)",
    responses=error_responses(409, 422),
)
def add_currency(body: CurrencyCreate, session: SessionDep) -> CurrencyPublic:
    return CurrencyPublic.model_validate(reference.add_currency(session=session, code=body.code))


@router.delete(
    "/currencies/{code}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Stop supporting a currency no account uses",
    responses=error_responses(404, 409),
)
def delete_currency(code: str, session: SessionDep) -> None:
    reference.delete_currency(session=session, code=code)
