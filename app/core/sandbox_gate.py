"""A gate per sandbox that a restore closes: requests in flight finish on the old state, new
ones wait and then start on the new one, none sees a mix.

Requests enter and leave in the routing middleware; a restore closes the gate, waits until the
requests inside have left, copies the database, and opens it again. The gate is built on a
thread condition, not on event-loop primitives, so it works whichever loop (or thread) a request
runs on; the rare waits run on threads of their own limiter, never taking the worker threads a
restore's copy needs. One process sees only its own requests: across workers, the database's own
locking keeps each request's reads consistent (SQLite copies under the file's write lock;
PostgreSQL ends other workers' connections before it replaces the database).
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from anyio import CapacityLimiter

# Threads that may wait at closed gates at once (beyond it, waiters queue for a thread).
_WAITERS = CapacityLimiter(256)


class GateTimeout(Exception):
    """The gate did not open, or the requests inside did not leave, in time."""


class SandboxGate:
    def __init__(self) -> None:
        self._state = threading.Condition()
        self._inside = 0
        self._closed = False
        self._closer = threading.Lock()

    @property
    def inside(self) -> int:
        return self._inside

    def try_enter(self) -> bool:
        """Enter at once if the gate is open (the hot path: no waiting)."""
        with self._state:
            if self._closed:
                return False
            self._inside += 1
            return True

    def _wait_and_enter(self, timeout: float) -> bool:
        with self._state:
            if not self._state.wait_for(lambda: not self._closed, timeout):
                return False
            self._inside += 1
            return True

    async def enter(self, timeout: float) -> None:
        if self.try_enter():
            return
        if not await anyio.to_thread.run_sync(self._wait_and_enter, timeout, limiter=_WAITERS):
            raise GateTimeout()

    def leave(self) -> None:
        with self._state:
            self._inside -= 1
            if self._inside == 0:
                self._state.notify_all()

    def _close(self, timeout: float) -> bool:
        if not self._closer.acquire(timeout=timeout):  # one restore at a time
            return False
        with self._state:
            self._closed = True
            if self._state.wait_for(lambda: self._inside == 0, timeout):
                return True
            self._closed = False
            self._state.notify_all()
        self._closer.release()
        return False

    def _open(self) -> None:
        with self._state:
            self._closed = False
            self._state.notify_all()
        self._closer.release()

    @asynccontextmanager
    async def closed(self, timeout: float) -> AsyncIterator[None]:
        """Closed for the block: entered once every request inside has left."""
        if not await anyio.to_thread.run_sync(self._close, timeout, limiter=_WAITERS):
            raise GateTimeout()
        try:
            yield
        finally:
            self._open()
