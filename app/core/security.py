"""Password hashing (bcrypt, called directly) and JWTs (PyJWT, one pinned algorithm)."""

from __future__ import annotations

import secrets
import string
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Literal

import bcrypt
import jwt

from app.core.config import Settings

BCRYPT_MAX_BYTES = 72
TokenType = Literal["access", "refresh"]


def hash_password(password: str, rounds: int) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=rounds)).decode()


def verify_password(password: str, password_hash: str) -> bool:
    encoded = password.encode()
    if len(encoded) > BCRYPT_MAX_BYTES:
        # bcrypt 5 refuses such input; no stored password can be that long anyway.
        return False
    return bcrypt.checkpw(encoded, password_hash.encode())


@lru_cache(maxsize=8)
def dummy_hash(rounds: int) -> str:
    """A hash to check unknown usernames against, so a logon costs the same either way."""
    return hash_password(secrets.token_urlsafe(16), rounds)


def generate_password(length: int = 16) -> str:
    """A random password with at least one lower, upper, digit and symbol."""
    alphabet = string.ascii_letters + string.digits + "!@#$%^&*-_"
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        if (
            any(c.islower() for c in candidate)
            and any(c.isupper() for c in candidate)
            and any(c.isdigit() for c in candidate)
            and any(not c.isalnum() for c in candidate)
        ):
            return candidate


@dataclass(frozen=True)
class TokenClaims:
    subject: str
    token_type: TokenType
    jti: str
    family: str | None
    expires_at: datetime


class TokenError(Exception):
    """The token is malformed, expired, of the wrong type or not ours."""


def create_token(
    settings: Settings,
    secret: str,
    *,
    subject: str,
    token_type: TokenType,
    family: str | None = None,
    now: datetime | None = None,
) -> tuple[str, TokenClaims]:
    issued = now or datetime.now(UTC)
    lifetime = (
        timedelta(minutes=settings.access_token_expire_minutes)
        if token_type == "access"
        else timedelta(days=settings.refresh_token_expire_days)
    )
    claims = TokenClaims(
        subject=subject,
        token_type=token_type,
        jti=uuid.uuid4().hex,
        family=family,
        expires_at=issued + lifetime,
    )
    payload: dict[str, Any] = {
        "sub": subject,
        "typ": token_type,
        "jti": claims.jti,
        "iat": issued,
        "exp": claims.expires_at,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
    }
    if family:
        payload["fam"] = family
    return jwt.encode(payload, secret, algorithm=settings.jwt_algorithm), claims


def decode_token(settings: Settings, secret: str, token: str, expected: TokenType) -> TokenClaims:
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[settings.jwt_algorithm],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "iat", "sub", "typ", "jti", "iss", "aud"]},
        )
    except jwt.PyJWTError as exc:
        raise TokenError(str(exc)) from exc
    if payload.get("typ") != expected:
        raise TokenError(f"expected a {expected} token")
    return TokenClaims(
        subject=str(payload["sub"]),
        token_type=expected,
        jti=str(payload["jti"]),
        family=payload.get("fam"),
        expires_at=datetime.fromtimestamp(int(payload["exp"]), UTC),
    )
