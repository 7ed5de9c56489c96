"""Public read lists of allowed countries and supported currencies."""

from __future__ import annotations

from app.api.deps import SessionDep
from app.api.routing import api_router
from app.models.country import AllowedCountryPublic
from app.models.currency import CurrencyPublic
from app.services import reference

router = api_router(tags=["reference data"])


@router.get("/countries", summary="Countries customers may register from")
def list_countries(session: SessionDep) -> list[AllowedCountryPublic]:
    return [
        AllowedCountryPublic.model_validate(c) for c in reference.list_countries(session=session)
    ]


@router.get("/currencies", summary="Currencies accounts may be opened in")
def list_currencies(session: SessionDep) -> list[CurrencyPublic]:
    return [CurrencyPublic.model_validate(c) for c in reference.list_currencies(session=session)]
