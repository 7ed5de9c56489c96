from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class HealthResponse(BaseModel):
    status: Literal["ok", "unavailable"]
    service: str
    version: str
    database: Literal["connected", "unreachable"]


class Landing(BaseModel):
    message: str
    version: str
    docs: str | None
    redoc: str | None
    health: str
