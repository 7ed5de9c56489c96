"""API keys: long-lived credentials of the caller, for agents and CI."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Response, status

from app.api.deps import NO_STORE, CurrentUser, SessionDep, SettingsDep
from app.api.routing import api_router
from app.core.identifiers import ID_MAX, ID_MIN
from app.models.api_key import ApiKeyCreate, ApiKeyCreated, ApiKeyPublic
from app.schemas.errors import error_responses
from app.services import api_keys

router = api_router(prefix="/auth/api-keys", tags=["auth"])

KeyId = Annotated[int, Path(ge=ID_MIN, le=ID_MAX, description="The key's id")]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Make an API key for yourself (shown once): it works wherever a token does",
    responses=error_responses(401, 409, 422),
)
def create_api_key(
    body: ApiKeyCreate,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
) -> ApiKeyCreated:
    created = api_keys.create(session=session, settings=settings, user=user, data=body)
    response.headers.update(NO_STORE)
    return created


@router.get(
    "",
    summary="Your API keys (never the keys themselves), newest first",
    responses=error_responses(401),
)
def list_api_keys(user: CurrentUser, session: SessionDep) -> list[ApiKeyPublic]:
    return list(api_keys.list_keys(session=session, user=user))


@router.delete(
    "/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke one of your API keys: it stops working at once",
    responses=error_responses(401, 404, 422),
)
def delete_api_key(key_id: KeyId, user: CurrentUser, session: SessionDep) -> None:
    api_keys.delete(session=session, user=user, key_id=key_id)
