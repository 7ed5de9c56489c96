"""The service's health: is the database reachable."""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from app.core.config import Settings
from app.schemas.health import HealthResponse

logger = logging.getLogger(__name__)


def database_ok(*, session: Session) -> bool:
    try:
        session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        logger.warning("health check: database unreachable (%s)", type(exc).__name__)
        return False
    return True


def status(*, session: Session, settings: Settings) -> HealthResponse:
    """Service name, version and whether the database answers (never raises for a dead one)."""
    ok = database_ok(session=session)
    return HealthResponse(
        status="ok" if ok else "unavailable",
        service=settings.service_name,
        version=settings.version,
        database="connected" if ok else "unreachable",
    )
