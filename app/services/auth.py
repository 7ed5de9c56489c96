"""Logon, sessions (refresh-token rotation with reuse detection, logout), and access-token checks.

A logon opens a session (`auth_session`). Its refresh tokens rotate within it, and every access
token names it (`sid`) beside the user's never-reused `uid` (`sub`). The per-request user read
joins the session, so logging out, or presenting a used refresh token again, ends every token of
the session at once, and a database that was reset (no such session) accepts none of its old
tokens.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import bindparam, update
from sqlmodel import Session, col, select

from app.core.clock import utcnow
from app.core.config import Settings
from app.core.db import write_transaction
from app.core.sandbox_context import current_sandbox_id
from app.core.security import (
    TokenClaims,
    TokenError,
    TokenType,
    create_token,
    decode_token,
    dummy_hash,
    run_password_work,
    verify_password,
)
from app.errors import (
    InvalidCredentials,
    InvalidToken,
    SessionEnded,
    TokenExpired,
    TokenUnknown,
    WrongSandbox,
)
from app.models.auth_session import AuthSession
from app.models.refresh_token import RefreshToken
from app.models.user import User
from app.services import api_keys, throttle, users


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int


def _secret(settings: Settings) -> str:
    if not settings.secret_key:  # pragma: no cover - create_app always resolves it
        raise RuntimeError("settings.secret_key is not resolved")
    return settings.secret_key


def check_password(password: str, user: User | None, rounds: int) -> bool:
    """Whether `password` is the user's. Unknown users are checked against a dummy hash, so
    both failures cost the same. Slow (bcrypt): call it through `run_password_work`."""
    password_hash = user.password_hash if user else dummy_hash(rounds)
    return verify_password(password, password_hash) and user is not None


def _issue_pair(*, session: Session, settings: Settings, user: User, session_id: str) -> TokenPair:
    secret = _secret(settings)
    subject = str(user.uid)
    sandbox_id = current_sandbox_id()
    access, _ = create_token(
        settings,
        secret,
        subject=subject,
        token_type="access",
        session_id=session_id,
        sandbox_id=sandbox_id,
    )
    refresh, claims = create_token(
        settings,
        secret,
        subject=subject,
        token_type="refresh",
        session_id=session_id,
        sandbox_id=sandbox_id,
    )
    session.add(RefreshToken(jti=claims.jti, session_id=session_id, expires_at=claims.expires_at))
    return TokenPair(
        access_token=access,
        refresh_token=refresh,
        expires_in=settings.access_token_expire_minutes * 60,
    )


def _begin_logon(
    session: Session, settings: Settings, username: str, address: str | None
) -> User | None:
    throttle.begin_logon(
        session=session, settings=settings, username=username, address=address, now=utcnow()
    )
    user = users.get_by_username(session=session, username=username)
    session.commit()  # end the read: nothing is held while the password is checked
    return user


def _open_session(
    session: Session, settings: Settings, user: User, username: str, address: str | None
) -> TokenPair:
    with write_transaction(session):
        throttle.add_logon_success(
            session=session, settings=settings, username=username, address=address
        )
        assert user.id is not None
        auth_session = AuthSession(id=uuid.uuid4().hex, user_id=user.id, created_at=utcnow())
        session.add(auth_session)
        return _issue_pair(
            session=session, settings=settings, user=user, session_id=auth_session.id
        )


async def logon(
    *,
    session: Session,
    settings: Settings,
    username: str,
    password: str,
    address: str | None = None,
) -> TokenPair:
    """Check the credentials and open a session. The attempt is counted against the account and
    the client address first (429 while either is throttled); the password is checked on the
    bounded hashing threads (503 when none is free in time)."""
    user = await run_in_threadpool(_begin_logon, session, settings, username, address)
    ok = await run_password_work(settings, check_password, password, user, settings.bcrypt_rounds)
    if not ok or user is None:
        raise InvalidCredentials()
    return await run_in_threadpool(_open_session, session, settings, user, username, address)


def _decode(settings: Settings, token: str, expected: TokenType) -> TokenClaims:
    """The token's claims; refused when it is invalid, expired or another sandbox's."""
    try:
        claims = decode_token(settings, _secret(settings), token, expected)
    except TokenError as exc:
        raise (TokenExpired() if exc.expired else InvalidToken()) from exc
    if claims.sandbox_id != current_sandbox_id():
        raise WrongSandbox()
    return claims


def _revoke_session(session: Session, session_id: str, now: datetime) -> None:
    session.execute(
        update(AuthSession)
        .where(col(AuthSession.id) == session_id, col(AuthSession.revoked_at).is_(None))
        .values(revoked_at=now)
    )


def refresh(*, session: Session, settings: Settings, refresh_token: str) -> TokenPair:
    """Rotate: a new pair in the same session, the presented token dead. A used token presented
    again is taken as theft and revokes the session, so every token of it stops working."""
    claims = _decode(settings, refresh_token, "refresh")
    reused = False
    with write_transaction(session):
        # Locked (PostgreSQL; SQLite holds its write lock already): two refreshes with one token
        # are serialised, so the second sees the first's mark and counts as reuse.
        row = session.exec(
            select(RefreshToken, AuthSession, User)
            .join(AuthSession, col(AuthSession.id) == col(RefreshToken.session_id))
            .join(User, col(User.id) == col(AuthSession.user_id))
            .where(col(RefreshToken.jti) == claims.jti)
            .with_for_update(of=RefreshToken)
        ).first()
        if row is None or row[1].id != claims.session_id:
            raise TokenUnknown()
        if row[1].revoked_at is not None:
            raise SessionEnded()
        stored, auth_session, user = row
        if stored.used_at is not None:
            _revoke_session(session, auth_session.id, utcnow())
            reused = True
        else:
            stored.used_at = utcnow()
            session.add(stored)
            pair = _issue_pair(
                session=session, settings=settings, user=user, session_id=auth_session.id
            )
    if reused:
        raise SessionEnded("Refresh token reuse detected; the session has been revoked")
    return pair


def logout(*, session: Session, settings: Settings, refresh_token: str) -> None:
    """End the refresh token's session: its refresh and access tokens stop working at once."""
    claims = _decode(settings, refresh_token, "refresh")
    with write_transaction(session):
        stored = session.get(RefreshToken, claims.jti)
        if stored is None or stored.session_id != claims.session_id:
            raise TokenUnknown()
        _revoke_session(session, stored.session_id, utcnow())


# Built once: every authenticated request runs it, and building it costs more than running it.
_USER_WITH_SESSION = (
    select(User, AuthSession.revoked_at)
    .join(AuthSession, col(AuthSession.user_id) == col(User.id))
    .where(col(User.uid) == bindparam("uid"), col(AuthSession.id) == bindparam("session_id"))
)


def user_from_access_token(*, session: Session, settings: Settings, token: str) -> User:
    """The user an access token names, read afresh with its session in one statement: a deleted
    user, a revoked session or a reset database stops the token at once."""
    claims = _decode(settings, token, "access")
    try:
        user_uid = uuid.UUID(claims.subject)
    except ValueError as exc:
        raise TokenUnknown() from exc
    row = session.execute(
        _USER_WITH_SESSION, {"uid": user_uid, "session_id": claims.session_id}
    ).first()
    if row is None:
        raise TokenUnknown()
    user, revoked_at = row
    if revoked_at is not None:
        raise SessionEnded()
    return user


def user_from_bearer(*, session: Session, settings: Settings, token: str) -> User:
    """The user behind an `Authorization: Bearer` credential: an API key (`obk_...`) or an
    access token. Either way one statement, and an `InvalidToken` that says why when refused."""
    if api_keys.is_api_key(token):
        return api_keys.user_for_key(session=session, key=token)
    return user_from_access_token(session=session, settings=settings, token=token)
