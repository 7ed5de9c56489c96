from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class HealthResponse(BaseModel):
    status: Literal["ok", "unavailable"]
    service: str
    version: str
    database: Literal["connected", "unreachable"]
    sandboxes: int | None = Field(
        default=None, description="Live sandboxes on this server (null when the database is down)"
    )


class Landing(BaseModel):
    message: str
    version: str
    docs: str | None
    redoc: str | None
    health: str
