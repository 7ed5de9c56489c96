"""Helpers that make tokens the way the app does, or almost (expired, foreign, mistyped)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import FastAPI

from app.core.config import Settings
from app.core.security import TokenType, create_token, decode_token


def app_settings(app: FastAPI) -> Settings:
    settings: Settings = app.state.settings
    return settings


def make_token(
    app: FastAPI,
    *,
    subject: str,
    token_type: TokenType = "access",  # noqa: S107 - a token type, not a password
    now: datetime | None = None,
    secret: str | None = None,
    session_id: str = "0" * 32,
    **setting_overrides: Any,
) -> str:
    """A token signed like the app's own, with the app's settings changed by `setting_overrides`
    (e.g. `jwt_issuer="someone-else"`) and optionally another `secret` or issue time."""
    settings = app_settings(app).model_copy(update=setting_overrides)
    key = secret if secret is not None else app_settings(app).secret_key
    assert key is not None
    token, _ = create_token(
        settings, key, subject=subject, token_type=token_type, session_id=session_id, now=now
    )
    return token


def session_of(app: FastAPI, access_token: str) -> str:
    """The session id an access token of the app carries."""
    settings = app_settings(app)
    assert settings.secret_key is not None
    return decode_token(settings, settings.secret_key, access_token, "access").session_id
