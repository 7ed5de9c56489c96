"""One refresh token presented twice at the same moment (two workers, say): one new pair at most,
and the second presentation counts as reuse, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
import threading

import pytest
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from app.core.db import new_session
from app.errors import InvalidToken
from app.services import auth
from tests.utils.auth import DEFAULT_PASSWORD, AuthedUser


def refresh_twice_at_once(app: FastAPI, engine: Engine, token: str) -> list[object]:
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def present() -> None:
        with new_session(engine) as session:
            barrier.wait(timeout=10)
            try:
                outcomes.append(
                    auth.refresh(session=session, settings=app.state.settings, refresh_token=token)
                )
            except InvalidToken as exc:
                outcomes.append(exc)

    threads = [threading.Thread(target=present) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


@pytest.mark.parametrize("round_", range(3))
def test_a_refresh_token_used_twice_at_once_is_caught(
    app: FastAPI, engine: Engine, customer: AuthedUser, round_: int
) -> None:
    with new_session(engine) as session:
        token = asyncio.run(
            auth.logon(
                session=session,
                settings=app.state.settings,
                username=customer.username,
                password=DEFAULT_PASSWORD,
            )
        ).refresh_token

    outcomes = refresh_twice_at_once(app, engine, token)

    pairs = [o for o in outcomes if isinstance(o, auth.TokenPair)]
    refused = [o for o in outcomes if isinstance(o, InvalidToken)]
    assert (len(pairs), len(refused)) == (1, 1), outcomes
    assert "reuse detected" in refused[0].message
    # The reuse revoked the whole session: the pair that was handed out is dead too.
    with new_session(engine) as session, pytest.raises(InvalidToken):
        auth.refresh(
            session=session, settings=app.state.settings, refresh_token=pairs[0].refresh_token
        )
