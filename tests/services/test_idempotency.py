"""Idempotency keys: the race PostgreSQL resolves with its unique index, and purging."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.core.clock import utcnow
from app.core.config import Settings
from app.core.db import new_session, write_transaction
from app.models.idempotency_key import IdempotencyKey
from app.models.transfer import TransferCreate
from app.models.user import User
from app.services import idempotency, transfers
from tests.utils.auth import AuthedUser
from tests.utils.money import assert_ledger_consistent, deposit


def user_of(session: Session, username: str) -> User:
    return session.exec(select(User).where(User.username == username)).one()


def test_fingerprint_is_canonical() -> None:
    one = idempotency.fingerprint(method="post", path="/p", body={"a": "1", "b": "2"})
    same = idempotency.fingerprint(method="POST", path="/p", body={"b": "2", "a": "1"})
    other = idempotency.fingerprint(method="POST", path="/q", body={"a": "1", "b": "2"})
    assert one == same != other
    assert len(one) == 64


def test_a_key_committed_by_a_concurrent_request_is_replayed(
    client: TestClient,
    engine: Engine,
    settings: Settings,
    customer: AuthedUser,
    other_customer: AuthedUser,
    admin_headers: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The PostgreSQL race: the other request commits the key after this one looked for it.

    This unit of work's claim then hits the unique (user_id, key) index; it is rolled back
    (with the money it would have moved) and the stored response is replayed instead.
    """
    deposit(client, admin_headers, customer.iban, "100.00")
    data = TransferCreate(
        from_iban=customer.iban,
        to_iban=other_customer.iban,
        amount=Decimal("10.00"),
        currency="EUR",
    )
    with new_session(engine) as session:
        user = user_of(session, customer.username)
        assert user.id is not None
        first = transfers.create(
            session=session,
            settings=settings,
            user_id=user.id,
            customer_id=user.customer_id,  # type: ignore[arg-type]
            data=data,
            idempotency_key="raced",
        )

        real_exec = Session.exec
        lookups = {"n": 0}

        def first_lookup_misses(self: Session, statement: Any, **kwargs: Any) -> Any:
            if getattr(statement, "column_descriptions", [{}])[0].get("entity") is IdempotencyKey:
                lookups["n"] += 1
                if lookups["n"] == 1:
                    return real_exec(self, statement.where(IdempotencyKey.id == -1), **kwargs)
            return real_exec(self, statement, **kwargs)

        monkeypatch.setattr(Session, "exec", first_lookup_misses)
        second = transfers.create(
            session=session,
            settings=settings,
            user_id=user.id,
            customer_id=user.customer_id,  # type: ignore[arg-type]
            data=data,
            idempotency_key="raced",
        )
        monkeypatch.setattr(Session, "exec", real_exec)

    assert lookups["n"] == 2
    assert (first.replayed, second.replayed) == (False, True)
    assert second.body == first.body
    assert assert_ledger_consistent(engine).entries_by_kind == {"deposit": 1, "transfer": 1}


def test_expired_keys_are_purged(engine: Engine, customer: AuthedUser) -> None:
    now = utcnow()
    with new_session(engine) as session:
        user = user_of(session, customer.username)
        with write_transaction(session):
            for key, age in (("old", 25), ("fresh", 1)):
                session.add(
                    IdempotencyKey(
                        user_id=user.id,
                        key=key,
                        fingerprint="0" * 64,
                        response_status=201,
                        response_body="{}",
                        created_at=now - timedelta(hours=age),
                        expires_at=now - timedelta(hours=age) + timedelta(hours=24),
                    )
                )
        assert idempotency.purge_expired(session=session, now=now) == 1
        assert session.exec(select(IdempotencyKey.key)).all() == ["fresh"]


def test_the_ttl_cannot_be_under_a_day() -> None:
    with pytest.raises(ValueError, match="greater than or equal to 24"):
        Settings(_env_file=None, idempotency_ttl_hours=23)  # type: ignore[call-arg]
