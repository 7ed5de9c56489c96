from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from app.api.deps import NO_STORE, ClientAddress, SessionDep, SettingsDep
from app.api.routing import api_router
from app.schemas.errors import error_responses
from app.schemas.token import RefreshRequest, TokenResponse
from app.services import auth

router = api_router(prefix="/auth", tags=["auth"])


def _token_response(pair: auth.TokenPair, response: Response) -> TokenResponse:
    response.headers.update(NO_STORE)
    return TokenResponse(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        expires_in=pair.expires_in,
    )


@router.post(
    "/logon",
    summary="Log on with username and password (OAuth2 password form)",
    responses=error_responses(401, 422, 429, 503),
)
async def logon(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
    address: ClientAddress,
    response: Response,
) -> TokenResponse:
    pair = await auth.logon(
        session=session,
        settings=settings,
        username=form.username,
        password=form.password,
        address=address,
    )
    return _token_response(pair, response)


@router.post(
    "/refresh",
    summary="Exchange a refresh token for a new pair (the old one stops working)",
    responses=error_responses(401, 422),
)
def refresh(
    body: RefreshRequest, session: SessionDep, settings: SettingsDep, response: Response
) -> TokenResponse:
    pair = auth.refresh(session=session, settings=settings, refresh_token=body.refresh_token)
    return _token_response(pair, response)


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End the session of a refresh token: its refresh and access tokens stop working",
    responses=error_responses(401, 422),
)
def logout(body: RefreshRequest, session: SessionDep, settings: SettingsDep) -> None:
    auth.logout(session=session, settings=settings, refresh_token=body.refresh_token)
