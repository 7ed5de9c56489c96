"""Idempotency keys: a retried request with the same `Idempotency-Key` gets the first response.

The key is claimed (its row inserted) at the start of the unit of work that moves the money and
the response is stored in that same unit of work, so the key and the money commit together or
not at all. Duplicates that arrive at the same time are serialised by SQLite's write lock, or on
PostgreSQL by the unique (user_id, key) index: the second insert waits for the first unit of
work and then fails, and the second request replays what the first one stored. Only successful
responses are stored: a request that failed (insufficient funds, say) moved nothing, and the
same key may be retried.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar, cast

from pydantic import BaseModel
from sqlalchemy import CursorResult, delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.core.clock import utcnow
from app.core.config import Settings
from app.core.db import run_in_write_transaction, write_transaction
from app.errors import IdempotencyKeyReused
from app.models.idempotency_key import IdempotencyKey

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Outcome(Generic[M]):
    body: M
    status_code: int
    replayed: bool


class _KeyClaimedConcurrently(Exception):
    """Another unit of work committed the same key first."""


def fingerprint(*, method: str, path: str, body: Mapping[str, Any]) -> str:
    """sha256 over the method, the path and the canonical (normalised, key-sorted) body."""
    canonical = json.dumps(
        {"method": method.upper(), "path": path, "body": body},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def execute(
    *,
    session: Session,
    settings: Settings,
    user_id: int,
    key: str | None,
    fingerprint: str,
    response_model: type[M],
    work: Callable[[Session], M],
    status_code: int = 201,
) -> Outcome[M]:
    """Run `work` as one unit of work, at most once per `(user_id, key)` while the key lasts."""
    retries = settings.db_write_retries
    if key is None:
        return Outcome(run_in_write_transaction(session, work, retries=retries), status_code, False)
    ttl = timedelta(hours=settings.idempotency_ttl_hours)

    def unit(s: Session) -> Outcome[M]:
        now = utcnow()
        stored = s.exec(
            select(IdempotencyKey).where(
                col(IdempotencyKey.user_id) == user_id, col(IdempotencyKey.key) == key
            )
        ).first()
        if stored is not None and stored.expires_at > now:
            if stored.fingerprint != fingerprint:
                raise IdempotencyKeyReused()
            assert stored.response_body is not None
            assert stored.response_status is not None
            body = response_model.model_validate_json(stored.response_body)
            return Outcome(body, stored.response_status, True)
        if stored is not None:  # expired: the key may be used afresh
            s.delete(stored)
            s.flush()
        claim = IdempotencyKey(
            user_id=user_id, key=key, fingerprint=fingerprint, created_at=now, expires_at=now + ttl
        )
        s.add(claim)
        try:
            s.flush()
        except IntegrityError as exc:
            raise _KeyClaimedConcurrently() from exc
        result = work(s)
        claim.response_status = status_code
        claim.response_body = result.model_dump_json()
        s.add(claim)
        return Outcome(result, status_code, False)

    try:
        return run_in_write_transaction(session, unit, retries=retries)
    except _KeyClaimedConcurrently:
        # The other request has committed by now: this attempt finds its row and replays it.
        return run_in_write_transaction(session, unit, retries=retries)


def purge_expired(*, session: Session, now: datetime | None = None) -> int:
    """Delete keys past their expiry (run at start-up); returns how many."""
    with write_transaction(session):
        result = session.execute(
            delete(IdempotencyKey).where(col(IdempotencyKey.expires_at) <= (now or utcnow()))
        )
    return int(cast("CursorResult[Any]", result).rowcount)
