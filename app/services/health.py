"""The service's health: is the database reachable."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from app.core.config import Settings
from app.schemas.health import HealthResponse

logger = logging.getLogger(__name__)


# Built once, run through the session's connection: the probe needs none of the ORM's execution.
_PING = text("SELECT 1")


def database_ok(*, session: Session) -> bool:
    try:
        session.connection().execute(_PING)
    except SQLAlchemyError as exc:
        logger.warning("health check: database unreachable (%s)", type(exc).__name__)
        return False
    return True


def status(
    *, session: Session, settings: Settings, live_sandboxes: Callable[[], int] | None = None
) -> HealthResponse:
    """Service name, version, whether the database answers and how many sandboxes are live
    (never raises for a dead database)."""
    ok = database_ok(session=session)
    sandboxes = None
    if ok and live_sandboxes is not None:
        try:
            sandboxes = live_sandboxes()
        except SQLAlchemyError as exc:
            logger.warning("health check: sandbox registry unreadable (%s)", type(exc).__name__)
    return HealthResponse(
        sandboxes=sandboxes,
        status="ok" if ok else "unavailable",
        service=settings.service_name,
        version=settings.version,
        database="connected" if ok else "unreachable",
    )
