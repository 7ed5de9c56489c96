"""Password hashing (bcrypt, called directly, a bounded number at a time) and JWTs (PyJWT, one
pinned algorithm)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
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
from app.core.sandbox_context import DEFAULT_SANDBOX
from app.errors import PasswordCheckBusy

BCRYPT_MAX_BYTES = 72
TokenType = Literal["access", "refresh"]
T = TypeVar("T")


# The scheme of a hash is in its text: bcrypt's start with "$2", ours with "sha256$".
GENERATED_SCHEME = "sha256"
GENERATED_SECRET_BYTES = 24  # 192 random bits


def hash_password(password: str, rounds: int) -> str:
    """A password a person chose: bcrypt, slow on purpose."""
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=rounds)).decode()


def generate_secret() -> str:
    """A password the server makes (a sandbox's staff logins): 192 random bits, URL-safe."""
    return secrets.token_urlsafe(GENERATED_SECRET_BYTES)


def hash_generated_secret(secret: str) -> str:
    """A hash for a secret of at least 128 random bits: salted sha256. A slow hash adds nothing
    against so many bits, and a new sandbox's logins would cost seconds of bcrypt."""
    salt = secrets.token_hex(8)
    digest = hashlib.sha256(f"{salt}${secret}".encode()).hexdigest()
    return f"{GENERATED_SCHEME}${salt}${digest}"


def verify_password(password: str, password_hash: str) -> bool:
    """Whether `password` matches `password_hash`, whichever scheme made it."""
    encoded = password.encode()
    if len(encoded) > BCRYPT_MAX_BYTES:
        # bcrypt 5 refuses such input; no stored password can be that long anyway.
        return False
    if password_hash.startswith(GENERATED_SCHEME + "$"):
        _, salt, digest = password_hash.split("$", 2)
        computed = hashlib.sha256(f"{salt}${password}".encode()).hexdigest()
        return hmac.compare_digest(computed, digest)
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
    sandbox_id: str = DEFAULT_SANDBOX


class TokenError(Exception):
    """The token is malformed, expired, of the wrong type or not ours."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


def bearer_token(authorization: str | None) -> str | None:
    """The credential of an `Authorization: Bearer <credential>` header (the scheme in any
    case); None without one."""
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def create_token(
    settings: Settings,
    secret: str,
    *,
    subject: str,
    token_type: TokenType,
    session_id: str,
    sandbox_id: str = DEFAULT_SANDBOX,
    now: datetime | None = None,
) -> tuple[str, TokenClaims]:
    """A signed token for the user `subject` (their uid) in the session `session_id` of the
    sandbox `sandbox_id` (claim `sbx`; a token without it is the default sandbox's)."""
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
        sandbox_id=sandbox_id,
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
    if sandbox_id != DEFAULT_SANDBOX:
        payload["sbx"] = sandbox_id
    return jwt.encode(payload, secret, algorithm=settings.jwt_algorithm), claims


# Checking a token's signature and claims costs more than the rest of a request's
# authentication, and a client sends the same token request after request. So the claims of a
# token that passed are kept (a bounded number, keyed by the token and by everything it was
# checked with); its expiry is checked again on every use. The caller's user and session are
# still read from the database on every request.
VERIFIED_TOKENS_KEPT = 4096


@lru_cache(maxsize=VERIFIED_TOKENS_KEPT)
def _verified_payload(
    token: str, secret: str, algorithm: str, audience: str, issuer: str
) -> dict[str, Any]:
    payload: dict[str, Any] = jwt.decode(
        token,
        secret,
        algorithms=[algorithm],
        audience=audience,
        issuer=issuer,
        options={"require": ["exp", "iat", "sub", "sid", "typ", "jti", "iss", "aud"]},
    )
    return payload


def decode_token(settings: Settings, secret: str, token: str, expected: TokenType) -> TokenClaims:
    try:
        payload = _verified_payload(
            token, secret, settings.jwt_algorithm, settings.jwt_audience, settings.jwt_issuer
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenError(str(exc), expired=True) from exc
    except jwt.PyJWTError as exc:
        raise TokenError(str(exc)) from exc
    expires_at = datetime.fromtimestamp(int(payload["exp"]), UTC)
    if expires_at <= datetime.now(UTC):  # PyJWT's own rule: expired at `exp`
        raise TokenError("Signature has expired", expired=True)
    if payload.get("typ") != expected:
        raise TokenError(f"expected a {expected} token")
    return TokenClaims(
        subject=str(payload["sub"]),
        token_type=expected,
        jti=str(payload["jti"]),
        session_id=str(payload["sid"]),
        expires_at=expires_at,
        sandbox_id=str(payload.get("sbx", DEFAULT_SANDBOX)),
    )


def unverified_sandbox(token: str) -> str | None:
    """The `sbx` claim of a JWT, read without checking the signature: only to choose the
    database the token is then checked against (the check itself verifies everything)."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    value = claims.get("sbx", DEFAULT_SANDBOX) if isinstance(claims, dict) else None
    return value if isinstance(value, str) else None
