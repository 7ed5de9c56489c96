"""Logon, refresh-token rotation with reuse detection, logout, and access-token checks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col

from app.core.clock import utcnow
from app.core.config import Settings
from app.core.db import write_transaction
from app.core.security import (
    TokenError,
    create_token,
    decode_token,
    dummy_hash,
    verify_password,
)
from app.errors import InvalidCredentials, InvalidToken
from app.models.refresh_token import RefreshToken
from app.models.user import User
from app.services import users


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int


def _secret(settings: Settings) -> str:
    if not settings.secret_key:  # pragma: no cover - create_app always resolves it
        raise RuntimeError("settings.secret_key is not resolved")
    return settings.secret_key


def authenticate(*, session: Session, settings: Settings, username: str, password: str) -> User:
    user = users.get_by_username(session=session, username=username)
    # Unknown usernames are checked against a dummy hash so both failures cost the same.
    password_hash = user.password_hash if user else dummy_hash(settings.bcrypt_rounds)
    if not verify_password(password, password_hash) or user is None:
        raise InvalidCredentials()
    return user


def _issue_pair(
    *, session: Session, settings: Settings, user: User, family: str | None = None
) -> TokenPair:
    secret = _secret(settings)
    access, _ = create_token(settings, secret, subject=str(user.id), token_type="access")
    refresh, claims = create_token(
        settings, secret, subject=str(user.id), token_type="refresh", family=family
    )
    assert user.id is not None
    session.add(
        RefreshToken(
            jti=claims.jti,
            user_id=user.id,
            family=family or claims.jti,
            expires_at=claims.expires_at,
        )
    )
    return TokenPair(
        access_token=access,
        refresh_token=refresh,
        expires_in=settings.access_token_expire_minutes * 60,
    )


def logon(*, session: Session, settings: Settings, username: str, password: str) -> TokenPair:
    user = authenticate(session=session, settings=settings, username=username, password=password)
    with write_transaction(session):
        # A first token starts its own family; _issue_pair uses its jti as the family id.
        return _issue_pair(session=session, settings=settings, user=user)


def _revoke_family(session: Session, family: str, now: datetime) -> None:
    session.execute(
        update(RefreshToken)
        .where(col(RefreshToken.family) == family, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=now)
    )


def refresh(*, session: Session, settings: Settings, refresh_token: str) -> TokenPair:
    """Rotate: a new pair, the presented token dead. A dead token presented again is taken as
    theft and revokes its whole family, so the newer token stops working too."""
    try:
        claims = decode_token(settings, _secret(settings), refresh_token, "refresh")
    except TokenError as exc:
        raise InvalidToken() from exc
    now = utcnow()
    reused = False
    with write_transaction(session):
        # Locked (PostgreSQL; SQLite holds its write lock already): two refreshes with one token
        # are serialised, so the second sees the first's mark and counts as reuse.
        stored = session.get(RefreshToken, claims.jti, with_for_update=True)
        if stored is None or stored.revoked_at is not None:
            raise InvalidToken()
        if stored.used_at is not None:
            _revoke_family(session, stored.family, now)
            reused = True
        else:
            user = session.get(User, stored.user_id)
            if user is None:  # pragma: no cover - tokens cascade with their user
                raise InvalidToken()
            stored.used_at = now
            session.add(stored)
            pair = _issue_pair(session=session, settings=settings, user=user, family=stored.family)
    if reused:
        raise InvalidToken("Refresh token reuse detected; the session has been revoked")
    return pair


def logout(*, session: Session, settings: Settings, refresh_token: str) -> None:
    try:
        claims = decode_token(settings, _secret(settings), refresh_token, "refresh")
    except TokenError as exc:
        raise InvalidToken() from exc
    with write_transaction(session):
        stored = session.get(RefreshToken, claims.jti)
        if stored is None:
            raise InvalidToken()
        _revoke_family(session, stored.family, utcnow())


def user_from_access_token(*, session: Session, settings: Settings, token: str) -> User:
    """The user an access token names, read afresh: a deleted user's token stops at once."""
    try:
        claims = decode_token(settings, _secret(settings), token, "access")
        user_id = int(claims.subject)
    except (TokenError, ValueError) as exc:
        raise InvalidToken() from exc
    user = session.get(User, user_id)
    if user is None:
        raise InvalidToken()
    return user
