"""Admin: reference data and FX rates. The router is gated to admins once, where it is included."""

from __future__ import annotations

from fastapi import Response, status

from app.api.deps import CountryPath, CurrencyPath, SessionDep
from app.api.routing import api_router
from app.models.country import AllowedCountryCreate, AllowedCountryPublic
from app.models.currency import CurrencyCreate, CurrencyPublic
from app.models.fx_rate import FxRatePublic, FxRateUpdate
from app.models.interest import InterestRatePublic, InterestRateUpdate
from app.schemas.errors import error_responses
from app.services import fx, interest, reference

router = api_router(prefix="/admin", tags=["admin"])


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
    "/countries/{iso_code:country}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Stop allowing registrations from a country",
    responses=error_responses(404),
)
def delete_country(iso_code: CountryPath, session: SessionDep) -> None:
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
    "/currencies/{code:currency}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Stop supporting a currency no account uses",
    responses=error_responses(404, 409),
)
def delete_currency(code: CurrencyPath, session: SessionDep) -> None:
    reference.delete_currency(session=session, code=code)


@router.get("/fx-rates", summary="List reference FX rates (1 base = rate quote)")
def list_fx_rates(session: SessionDep) -> list[FxRatePublic]:
    return [FxRatePublic.model_validate(r) for r in fx.list_rates(session=session)]


@router.get(
    "/fx-rates/{base:currency}/{quote:currency}",
    summary="One reference FX rate",
    responses=error_responses(404, 422),
)
def get_fx_rate(base: CurrencyPath, quote: CurrencyPath, session: SessionDep) -> FxRatePublic:
    return FxRatePublic.model_validate(fx.get_rate(session=session, base=base, quote=quote))


@router.put(
    "/fx-rates/{base:currency}/{quote:currency}",
    summary="Set a reference FX rate: 201 when new, 200 when replaced",
    responses={201: {"model": FxRatePublic, "description": "Created"}, **error_responses(422)},
)
def set_fx_rate(
    base: CurrencyPath,
    quote: CurrencyPath,
    body: FxRateUpdate,
    session: SessionDep,
    response: Response,
) -> FxRatePublic:
    rate, created = fx.set_rate(session=session, base=base, quote=quote, rate=body.rate)
    if created:
        response.status_code = status.HTTP_201_CREATED
    return FxRatePublic.model_validate(rate)


@router.delete(
    "/fx-rates/{base:currency}/{quote:currency}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a reference FX rate",
    responses=error_responses(404, 422),
)
def delete_fx_rate(base: CurrencyPath, quote: CurrencyPath, session: SessionDep) -> None:
    fx.delete_rate(session=session, base=base, quote=quote)


@router.get("/interest-rates", summary="Interest rates of saving accounts, per currency")
def list_interest_rates(session: SessionDep) -> list[InterestRatePublic]:
    return [InterestRatePublic.model_validate(r) for r in interest.list_rates(session=session)]


@router.get(
    "/interest-rates/{currency:currency}",
    summary="One currency's interest rate",
    responses=error_responses(404),
)
def get_interest_rate(currency: CurrencyPath, session: SessionDep) -> InterestRatePublic:
    return InterestRatePublic.model_validate(interest.get_rate(session=session, currency=currency))


@router.put(
    "/interest-rates/{currency:currency}",
    summary="Set a currency's interest rate (percent a year): 201 when new, 200 when replaced",
    responses={
        201: {"model": InterestRatePublic, "description": "Created"},
        **error_responses(422),
    },
)
def set_interest_rate(
    currency: CurrencyPath, body: InterestRateUpdate, session: SessionDep, response: Response
) -> InterestRatePublic:
    rate, created = interest.set_rate(
        session=session, currency=currency, annual_percent=body.annual_percent
    )
    if created:
        response.status_code = status.HTTP_201_CREATED
    return InterestRatePublic.model_validate(rate)


@router.delete(
    "/interest-rates/{currency:currency}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Stop paying interest in a currency",
    responses=error_responses(404),
)
def delete_interest_rate(currency: CurrencyPath, session: SessionDep) -> None:
    interest.delete_rate(session=session, currency=currency)
