"""Brute-force protection: failed logons per account and per client address, registrations per
address. The counts live in the database (`throttle`), so every worker and host sees them.

- **Per account**: every logon attempt is counted *before* its password is checked, in a short
  unit of work of its own, so a burst of parallel guesses cannot all slip past the limit; a
  success takes its count back and clears the account. Once an account has
  `LOGON_FAILURES_PER_ACCOUNT` consecutive failures it is held back for a delay that doubles
  with each further failure (2 s, 4 s, ... at most 15 minutes): until then every logon, even
  with the right password, is 429 with `Retry-After`. At most about 20 guesses an hour get
  through (ASVS 2.2.1 asks for no more than 100).
- **Per address**: at most `LOGON_FAILURES_PER_ADDRESS` failed logons and
  `REGISTRATIONS_PER_ADDRESS` registrations an hour from one client address (the socket's, or
  the one a trusted proxy forwards: uvicorn `--forwarded-allow-ips`).

`THROTTLE_ENABLED=false` turns all of it off.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from app.core.config import Settings
from app.core.db import insert_if_absent, write_transaction
from app.errors import TooManyLogonAttempts, TooManyRegistrations
from app.models.throttle import Throttle, ThrottleScope

WINDOW = timedelta(hours=1)
FIRST_DELAY = timedelta(seconds=2)
MAX_DELAY = timedelta(minutes=15)


def _subject(value: str) -> str:
    return hashlib.sha256(value.strip().lower().encode()).hexdigest()


def _row(session: Session, scope: ThrottleScope, value: str, now: datetime) -> Throttle:
    """The throttle row, created when missing and locked for the unit of work."""
    subject = _subject(value)
    insert_if_absent(
        session,
        Throttle,
        {"scope": scope, "subject": subject, "attempts": 0, "window_started_at": now},
    )
    return session.exec(
        select(Throttle)
        .where(col(Throttle.scope) == scope, col(Throttle.subject) == subject)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _in_window(row: Throttle, now: datetime) -> Throttle:
    """Start a new hour for a per-address count whose hour is over."""
    if now >= row.window_started_at + WINDOW:
        row.attempts, row.window_started_at, row.blocked_until = 0, now, None
    return row


def account_delay(failures: int, limit: int) -> timedelta | None:
    """How long an account is held back after `failures` consecutive failures (None: not)."""
    if failures < limit:
        return None
    return min(FIRST_DELAY * 2 ** (failures - limit), MAX_DELAY)


def begin_logon(
    *, session: Session, settings: Settings, username: str, address: str | None, now: datetime
) -> None:
    """Count a logon attempt against the account and the address before its password is
    checked (one unit of work); `TooManyLogonAttempts` (429) while either is held back."""
    if not settings.throttle_enabled:
        return
    with write_transaction(session):
        account = _row(session, ThrottleScope.logon_account, username, now)
        if account.blocked_until is not None and account.blocked_until > now:
            raise TooManyLogonAttempts(retry_after=(account.blocked_until - now).total_seconds())
        by_address = None
        if address:
            by_address = _in_window(_row(session, ThrottleScope.logon_address, address, now), now)
            if by_address.attempts >= settings.logon_failures_per_address:
                end = by_address.window_started_at + WINDOW
                raise TooManyLogonAttempts(retry_after=(end - now).total_seconds())
            by_address.attempts += 1
            session.add(by_address)
        account.attempts += 1
        delay = account_delay(account.attempts, settings.logon_failures_per_account)
        account.blocked_until = now + delay if delay else None
        session.add(account)


def add_logon_success(
    *, session: Session, settings: Settings, username: str, address: str | None
) -> None:
    """In the caller's unit of work: the attempt `begin_logon` counted succeeded, so the
    account starts from zero again and the address gets its attempt back."""
    if not settings.throttle_enabled:
        return
    account = session.get(Throttle, (ThrottleScope.logon_account, _subject(username)))
    if account is not None:
        session.delete(account)
    if address:
        by_address = session.get(Throttle, (ThrottleScope.logon_address, _subject(address)))
        if by_address is not None and by_address.attempts > 0:
            by_address.attempts -= 1
            session.add(by_address)


def begin_registration(
    *, session: Session, settings: Settings, address: str | None, now: datetime
) -> None:
    """Count a registration from `address` (one unit of work); `TooManyRegistrations` (429)
    once the address has used up its hour."""
    if not settings.throttle_enabled or not address:
        return
    with write_transaction(session):
        row = _in_window(_row(session, ThrottleScope.registration_address, address, now), now)
        if row.attempts >= settings.registration_limit:
            end = row.window_started_at + WINDOW
            raise TooManyRegistrations(retry_after=(end - now).total_seconds())
        row.attempts += 1
        session.add(row)
