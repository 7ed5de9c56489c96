"""The app's routes: a plain `def` endpoint ends its database work on the thread it ran on.

FastAPI runs a plain `def` endpoint on a worker thread, then checks its return value on another
(a second wait for a thread). A read the endpoint left open would keep its pooled connection
through that wait: with every thread taken by requests waiting for a connection, and every
connection held by requests waiting for a thread, none would move. So when the endpoint returns
(or raises), the request's session is closed on the same thread, giving its connection back.
Objects it loaded keep their values (the session does not expire them). `async def` endpoints
do their blocking work through `in_worker_thread`, with a session that lives on its thread.

The busiest routes are `async def` and make one step of the whole request: they take the
caller's credential (`CredentialDep`, no I/O) and read the caller in the same worker step as
their service call, instead of a step for the caller (`CurrentUser`) and another for the work.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.core.db import new_session

T = TypeVar("T")


def _close_sessions(arguments: dict[str, Any]) -> None:
    for value in arguments.values():
        if isinstance(value, Session):
            value.close()


def _ends_its_reads(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(endpoint)
    def run(**arguments: Any) -> Any:
        try:
            return endpoint(**arguments)
        finally:
            _close_sessions(arguments)

    return run


class BankRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = _ends_its_reads(endpoint)
        super().__init__(path, endpoint, **kwargs)


def api_router(**kwargs: Any) -> APIRouter:
    """An `APIRouter` whose routes are `BankRoute`s."""
    return APIRouter(route_class=BankRoute, **kwargs)


async def in_worker_thread(engine: Engine, work: Callable[..., T], /, **kwargs: Any) -> T:
    """`work(session=..., **kwargs)` on a worker thread, with a session of its own opened and
    closed there: the whole database part of an `async def` endpoint in one hop, its
    connection taken and given back on that thread."""

    def run() -> T:
        with new_session(engine) as session:
            return work(session=session, **kwargs)

    return await run_in_threadpool(run)
