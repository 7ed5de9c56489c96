"""More requests than connections and worker threads: every one is answered, none waits for
the pool's timeout.

A request's steps run on worker threads; one that kept its pooled connection while waiting for
its next thread could be stuck behind requests that hold every thread while waiting for a
connection. Here the pool has two connections and the app two worker threads: twelve requests
at once, each with a user lookup and a route that both read the database.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import anyio.to_thread
from fastapi.testclient import TestClient
from starlette.types import Receive, Scope, Send

from app.core.config import Settings
from app.main import create_app
from tests.utils.auth import register_customer

THREADS = 2
REQUESTS = 12


def test_requests_beyond_the_pool_and_the_threads_are_all_answered(settings: Settings) -> None:
    # Two connections, and a pool timeout that a stuck request would reach.
    app = create_app(
        settings.model_copy(update={"db_pool_size": 1, "db_max_overflow": 1, "db_pool_timeout": 3})
    )

    async def with_two_threads(scope: Scope, receive: Receive, send: Send) -> None:
        anyio.to_thread.current_default_thread_limiter().total_tokens = THREADS
        await app(scope, receive, send)

    with TestClient(with_two_threads) as client:
        alice = register_customer(client)
        paths = ["/accounts/overview", f"/accounts/{alice.iban}", "/customers/me"] * (REQUESTS // 3)
        with ThreadPoolExecutor(REQUESTS) as pool:
            statuses = list(
                pool.map(lambda path: client.get(path, headers=alice.headers).status_code, paths)
            )

    # A request stuck behind the others would have waited out the pool's timeout: 503.
    assert statuses == [200] * REQUESTS


def test_the_app_runs_on_the_configured_number_of_threads(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"worker_threads": 3}))

    @app.get("/threads-for-the-test")
    async def threads() -> int:
        return int(anyio.to_thread.current_default_thread_limiter().total_tokens)

    with TestClient(app) as client:
        assert client.get("/threads-for-the-test").json() == 3
