"""Password hashing (bcrypt, called directly, a bounded number at a time) and JWTs (PyJWT, one
pinned algorithm)."""

from __future__ import annotations

import asyncio
import secrets
import string
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Literal, TypeVar

import bcrypt
import jwt

from app.core.config import Settings
from app.errors import PasswordCheckBusy

BCRYPT_MAX_BYTES = 72
TokenType = Literal["access", "refresh"]
T = TypeVar("T")


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


@lru_cache(maxsize=4)
def _hashing_pool(concurrency: int) -> ThreadPoolExecutor:
    """The process's password-hashing threads: at most `concurrency` hashes run at once."""
    return ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="password-hash")


async def run_password_work(settings: Settings, work: Callable[..., T], *args: Any) -> T:
    """Run `work(*args)` (bcrypt) on the process's few hashing threads, from the event loop.

    bcrypt keeps a core busy for a quarter of a second at the default cost. A burst of logons
    handed to the server's general thread pool would occupy all of its threads and starve every
    other request; here at most `PASSWORD_HASH_CONCURRENCY` run at once, the others wait on
    the event loop (holding no thread), and one that has not started within
    `PASSWORD_HASH_QUEUE_SECONDS` is dropped with `PasswordCheckBusy` (503, `Retry-After`).
    """
    future = _hashing_pool(settings.password_hash_concurrency).submit(work, *args)
    waiting = asyncio.wrap_future(future)
    try:
        return await asyncio.wait_for(asyncio.shield(waiting), settings.password_hash_queue_seconds)
    except TimeoutError:
        if future.cancel():  # still queued: give up its turn
            raise PasswordCheckBusy() from None
        return await waiting  # already running: it ends in a moment


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
    session_id: str
    expires_at: datetime


class TokenError(Exception):
    """The token is malformed, expired, of the wrong type or not ours."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


def create_token(
    settings: Settings,
    secret: str,
    *,
    subject: str,
    token_type: TokenType,
    session_id: str,
    now: datetime | None = None,
) -> tuple[str, TokenClaims]:
    """A signed token for the user `subject` (their uid) in the session `session_id`."""
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
        session_id=session_id,
        expires_at=issued + lifetime,
    )
    payload: dict[str, Any] = {
        "sub": subject,
        "sid": session_id,
        "typ": token_type,
        "jti": claims.jti,
        "iat": issued,
        "exp": claims.expires_at,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
    }
    return jwt.encode(payload, secret, algorithm=settings.jwt_algorithm), claims


def decode_token(settings: Settings, secret: str, token: str, expected: TokenType) -> TokenClaims:
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[settings.jwt_algorithm],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "iat", "sub", "sid", "typ", "jti", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenError(str(exc), expired=True) from exc
    except jwt.PyJWTError as exc:
        raise TokenError(str(exc)) from exc
    if payload.get("typ") != expected:
        raise TokenError(f"expected a {expected} token")
    return TokenClaims(
        subject=str(payload["sub"]),
        token_type=expected,
        jti=str(payload["jti"]),
        session_id=str(payload["sid"]),
        expires_at=datetime.fromtimestamp(int(payload["exp"]), UTC),
    )
