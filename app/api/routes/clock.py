"""The sandbox's clock: anyone logged on to the sandbox reads it, its admins move it."""

from __future__ import annotations

from app.api.deps import AdminUser, CurrentUser, SessionDep, SettingsDep
from app.api.routing import api_router
from app.models.clock import ClockAdvance, ClockAdvanced, ClockPublic
from app.schemas.errors import error_responses
from app.services import clock

router = api_router(prefix="/sandbox/clock", tags=["clock"])


@router.get("", summary="The sandbox's time and whether it flows", responses=error_responses(401))
def get_clock(_: CurrentUser, session: SessionDep) -> ClockPublic:
    return clock.read(session=session)


@router.post(
    "/advance",
    summary="Move the sandbox's time forward, running what falls due on the way",
    responses=error_responses(401, 403, 409, 422),
)
def advance_clock(
    body: ClockAdvance, _: AdminUser, session: SessionDep, settings: SettingsDep
) -> ClockAdvanced:
    return clock.advance(session=session, settings=settings, data=body)


@router.post(
    "/freeze",
    summary="Stop the sandbox's time where it is",
    responses=error_responses(401, 403),
)
def freeze_clock(_: AdminUser, session: SessionDep) -> ClockPublic:
    return clock.freeze(session=session)


@router.post(
    "/unfreeze",
    summary="Let the sandbox's time flow again, from where it stood",
    responses=error_responses(401, 403),
)
def unfreeze_clock(_: AdminUser, session: SessionDep) -> ClockPublic:
    return clock.unfreeze(session=session)
