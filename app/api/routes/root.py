from __future__ import annotations

from fastapi import APIRouter, Response, status

from app.api.deps import SandboxHubDep, SessionDep, SettingsDep
from app.schemas.health import HealthResponse, Landing
from app.services import health

router = APIRouter(tags=["health"])


@router.get("/", summary="Landing page with links to the docs (null when they are off)")
def landing(settings: SettingsDep) -> Landing:
    return Landing(
        message=f"Welcome to {settings.project_name}, a sandbox bank for developers and agents",
        version=settings.version,
        docs="/docs" if settings.serves_docs else None,
        redoc="/redoc" if settings.serves_docs else None,
        health="/health",
    )


@router.get(
    "/health",
    summary="Service and database status",
    responses={503: {"model": HealthResponse, "description": "Database unreachable"}},
)
def get_health(
    session: SessionDep, settings: SettingsDep, hub: SandboxHubDep, response: Response
) -> HealthResponse:
    result = health.status(session=session, settings=settings, live_sandboxes=hub.live_count)
    if result.status != "ok":
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return result
