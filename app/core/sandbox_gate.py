"""A gate per sandbox that a restore closes: requests in flight finish on the old state, new
ones wait and then start on the new one, none sees a mix.

Requests enter and leave on the event loop (the routing middleware); a restore closes the gate,
waits until the requests inside have left, copies the database, and opens it again. One process
sees only its own requests: across workers, the database's own locking keeps each request's
reads consistent (SQLite copies under the file's write lock; PostgreSQL ends other workers'
connections before it replaces the database).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class GateTimeout(Exception):
    """The gate did not open, or the requests inside did not leave, in time."""


class SandboxGate:
    def __init__(self) -> None:
        self._inside = 0
        self._closed = False
        self._opened = asyncio.Event()
        self._opened.set()
        self._idle = asyncio.Event()
        self._idle.set()
        self._closer = asyncio.Lock()

    @property
    def inside(self) -> int:
        return self._inside

    def try_enter(self) -> bool:
        """Enter at once if the gate is open (the hot path: no waiting, no allocation)."""
        if self._closed:
            return False
        self._inside += 1
        self._idle.clear()
        return True

    async def enter(self, timeout: float) -> None:
        while not self.try_enter():
            try:
                await asyncio.wait_for(self._opened.wait(), timeout)
            except TimeoutError:
                raise GateTimeout() from None

    def leave(self) -> None:
        self._inside -= 1
        if self._inside == 0:
            self._idle.set()

    @asynccontextmanager
    async def closed(self, timeout: float) -> AsyncIterator[None]:
        """Closed for the block: entered once every request inside has left."""
        async with self._closer:
            self._closed = True
            self._opened.clear()
            try:
                try:
                    await asyncio.wait_for(self._idle.wait(), timeout)
                except TimeoutError:
                    raise GateTimeout() from None
                yield
            finally:
                self._closed = False
                self._opened.set()
