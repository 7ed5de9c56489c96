"""The error body every failure has, and a helper to document statuses on routes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

DESCRIPTIONS = {
    400: "Malformed identifier or request body",
    401: "Missing, invalid or expired token",
    403: "Authenticated but not allowed",
    404: "Absent, or not yours",
    409: "Conflicts with existing data",
    413: "Request body too large",
    422: "Validation failed",
    429: "Too many requests: wait the seconds in Retry-After",
    503: "Busy or database unavailable: retry after the seconds in Retry-After",
}


class ValidationIssue(BaseModel):
    """One problem with the request: where (`loc`), what (`type`) and a message."""

    model_config = ConfigDict(extra="allow")

    loc: list[str | int]
    msg: str
    type: str


class Error(BaseModel):
    """Every error: a message, or for a request that fails validation, a list of issues."""

    detail: str | list[ValidationIssue]


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": Error, "description": DESCRIPTIONS[code]} for code in codes}
