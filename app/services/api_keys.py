"""API keys: long-lived credentials that a user makes for agents and CI.

A key is `obk_` and 43 URL-safe characters (256 random bits); a sandbox's keys name their
sandbox first (`obk_sbx_....<43 characters>`), so the MCP endpoint knows which bank to check
them in, and they are refused in any other. It is shown once, at creation;
only its sha256 is kept (a slow password hash buys nothing against 256 random bits, and a key is
checked on every request). A key acts as its owner, with the owner's role, until it is revoked,
it expires, or its owner is deleted (the rows cascade).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, func, select

from app.core.clock import utcnow
from app.core.config import Settings
from app.core.db import begin_write, write_transaction
from app.core.identifiers import STORED_ID_MAX
from app.core.sandbox_context import DEFAULT_SANDBOX, current_sandbox_id, is_sandbox_id
from app.errors import (
    ApiKeyExpired,
    ApiKeyNotFound,
    ApiKeyRevoked,
    ApiKeyUnknown,
    TooManyApiKeys,
    ValidationFailed,
    WrongSandbox,
)
from app.models.api_key import API_KEY_PREFIX, ApiKey, ApiKeyCreate, ApiKeyCreated, ApiKeyPublic
from app.models.user import User

KEY_BYTES = 32
SHOWN_PREFIX = 12  # "obk_", (the sandbox id and ".",) and 8 characters of the key
MAX_KEYS_PER_USER = 100
# last_used_at is written at most this often per key (a write on every request would cost).
LAST_USED_RESOLUTION = timedelta(minutes=1)


def is_api_key(token: str) -> bool:
    return token.startswith(API_KEY_PREFIX)


def sandbox_of_key(key: str) -> str | None:
    """The sandbox a key names (`obk_sbx_....`), the default for a plain key; None when the key
    names something that is not a sandbox id."""
    head, dot, _ = key.removeprefix(API_KEY_PREFIX).partition(".")
    if not dot:
        return DEFAULT_SANDBOX
    return head if is_sandbox_id(head) else None


def _new_key() -> tuple[str, str]:
    """A new key and the prefix shown to recognise it."""
    sandbox_id = current_sandbox_id()
    scope = "" if sandbox_id == DEFAULT_SANDBOX else f"{sandbox_id}."
    key = f"{API_KEY_PREFIX}{scope}{secrets.token_urlsafe(KEY_BYTES)}"
    return key, key[: len(scope) + SHOWN_PREFIX]


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _public(key: ApiKey, user: User) -> ApiKeyPublic:
    return ApiKeyPublic.model_validate(key, update={"role": user.role})


def create(
    *, session: Session, settings: Settings, user: User, data: ApiKeyCreate
) -> ApiKeyCreated:
    """A new key for `user` (shown this once in the result)."""
    if data.expires_in_days is not None and data.expires_in_days > settings.api_key_max_days:
        raise ValidationFailed(
            f"expires_in_days must be at most {settings.api_key_max_days} (API_KEY_MAX_DAYS)"
        )
    secret, shown = _new_key()
    now = utcnow()
    with write_transaction(session):
        live = session.exec(
            select(func.count())
            .select_from(ApiKey)
            .where(col(ApiKey.user_id) == user.id, col(ApiKey.revoked_at).is_(None))
        ).one()
        if live >= MAX_KEYS_PER_USER:
            raise TooManyApiKeys()
        assert user.id is not None
        key = ApiKey(
            user_id=user.id,
            name=data.name,
            prefix=shown,
            key_hash=_hash(secret),
            created_at=now,
            expires_at=now + timedelta(days=data.expires_in_days)
            if data.expires_in_days is not None
            else None,
        )
        session.add(key)
        session.flush()
        created = ApiKeyCreated.model_validate(key, update={"role": user.role, "key": secret})
    return created


def list_keys(*, session: Session, user: User) -> Sequence[ApiKeyPublic]:
    """The user's keys that are not revoked, newest first (never the keys themselves)."""
    keys = session.exec(
        select(ApiKey)
        .where(col(ApiKey.user_id) == user.id, col(ApiKey.revoked_at).is_(None))
        .order_by(col(ApiKey.created_at).desc(), col(ApiKey.id).desc())
    ).all()
    return [_public(key, user) for key in keys]


def delete(*, session: Session, user: User, key_id: int) -> None:
    """Revoke one of the user's keys: it stops working at once (404 for anyone else's)."""
    if key_id > STORED_ID_MAX:
        raise ApiKeyNotFound()
    with write_transaction(session):
        result = session.execute(
            update(ApiKey)
            .where(
                col(ApiKey.id) == key_id,
                col(ApiKey.user_id) == user.id,
                col(ApiKey.revoked_at).is_(None),
            )
            .values(revoked_at=utcnow())
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            raise ApiKeyNotFound()


def user_for_key(*, session: Session, key: str, now: datetime | None = None) -> User:
    """The owner of a live key, read with the key in one statement. A revoked, expired or
    unknown key raises the matching `InvalidToken`."""
    if sandbox_of_key(key) != current_sandbox_id():
        raise WrongSandbox()
    row = session.exec(
        select(User, ApiKey)
        .join(ApiKey, col(ApiKey.user_id) == col(User.id))
        .where(col(ApiKey.key_hash) == _hash(key))
    ).first()
    if row is None:
        raise ApiKeyUnknown()
    user, api_key = row
    moment = now or utcnow()
    if api_key.revoked_at is not None:
        raise ApiKeyRevoked()
    if api_key.expires_at is not None and api_key.expires_at <= moment:
        raise ApiKeyExpired()
    if api_key.last_used_at is None or moment - api_key.last_used_at >= LAST_USED_RESOLUTION:
        _touch(session, api_key, moment)
    return user


def _touch(session: Session, api_key: ApiKey, moment: datetime) -> None:
    """Record the use (at most once a minute per key), in a short unit of work of its own."""
    begin_write(session)
    session.execute(update(ApiKey).where(col(ApiKey.id) == api_key.id).values(last_used_at=moment))
    session.commit()
