"""More requests than connections and worker threads: every one is answered, none waits for
the pool's timeout.

A request's steps run on worker threads; one that kept its pooled connection while waiting for
its next thread could be stuck behind requests that hold every thread while waiting for a
connection. Here the pool has two connections and the app two worker threads: twelve requests
at once, each with a user lookup and a route that both read the database.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import anyio.to_thread
import pytest
from fastapi.testclient import TestClient
from starlette.types import Receive, Scope, Send

from app.core.config import Settings
from app.main import create_app
from tests.utils.auth import AuthedUser, register_customer
from tests.utils.money import deposit, transfer_body

T = TypeVar("T")

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


def test_the_busiest_routes_take_one_worker_step_each(
    client: TestClient,
    customer: AuthedUser,
    other_customer: AuthedUser,
    admin_headers: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The caller is read in the same worker step as the route's own reads and writes: one hand-
    # over to a thread per request, not one for the caller and another for the work.
    deposit(client, admin_headers, customer.iban, "10.00")
    steps: list[str] = []
    run_sync = anyio.to_thread.run_sync

    async def counted(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        steps.append(getattr(function, "__name__", "?"))
        return await run_sync(function, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted)
    requests = [
        ("GET", "/accounts/overview", customer.headers, None),
        ("GET", f"/accounts/{customer.iban}/transactions", customer.headers, None),
        ("GET", "/portfolio", customer.headers, None),
        ("GET", f"/user-portfolio/{customer.customer_oid}", customer.headers, None),
        ("GET", f"/user-portfolio/{customer.customer_oid}", admin_headers, None),
        ("GET", "/health", {}, None),
        ("POST", "/transfers", customer.headers,
         transfer_body(customer.iban, other_customer.iban, "1.00")),
    ]  # fmt: skip
    for method, path, headers, body in requests:
        steps.clear()
        response = client.request(method, path, headers=headers, json=body)
        assert response.status_code in (200, 201), (path, response.text)
        assert len(steps) == 1, (method, path, steps)


def test_a_refused_caller_is_refused_before_the_route_reads_anything(
    client: TestClient, customer: AuthedUser, other_customer: AuthedUser
) -> None:
    # A logged-out token, in the one step: 401, and nothing of the route's is answered.
    assert (
        client.post("/auth/logout", json={"refresh_token": customer.refresh_token}).status_code
        == 204
    )
    for path in (
        "/accounts/overview",
        f"/accounts/{customer.iban}/transactions?from=not-a-date",
        f"/user-portfolio/{other_customer.customer_oid}",
        "/portfolio",
    ):
        response = client.get(path, headers=customer.headers)
        assert response.status_code == 401, (path, response.text)
    response = client.post(
        "/transfers",
        headers=customer.headers,
        json=transfer_body(customer.iban, other_customer.iban, "1.00"),
    )
    assert response.status_code == 401


def test_a_route_step_that_fails_gives_its_connection_back(
    make_client: Callable[..., TestClient], admin_headers: dict[str, str]
) -> None:
    # Two connections in the pool (the app's start needs two): a step that raised (403 for
    # staff, 404 for an unknown customer) and kept its connection would leave the requests
    # after the second waiting out the pool's timeout (503).
    client = make_client(db_pool_size=2, db_max_overflow=0, db_pool_timeout=2)
    alice = register_customer(client)
    unknown = "00000000-0000-4000-8000-000000000000"
    for _ in range(3):
        assert client.get("/accounts/overview", headers=admin_headers).status_code == 403
        assert client.get(f"/user-portfolio/{unknown}", headers=admin_headers).status_code == 404
    assert client.get("/accounts/overview", headers=alice.headers).status_code == 200
