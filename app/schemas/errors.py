"""The error body every failure has, and a helper to document statuses on routes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

_DESCRIPTIONS = {
    400: "Malformed identifier or request",
    401: "Missing, invalid or expired token",
    403: "Authenticated but not allowed",
    404: "Absent, or not yours",
    409: "Conflicts with existing data",
    413: "Request body too large",
    422: "Validation failed",
    429: "Too many requests: wait the seconds in Retry-After",
    503: "Busy or database unavailable: retry after the seconds in Retry-After",
}


class ErrorResponse(BaseModel):
    detail: Any


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorResponse, "description": _DESCRIPTIONS[code]} for code in codes}
