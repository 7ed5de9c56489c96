"""Run requests at the same moment: one client per thread, released together by a barrier."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from fastapi import FastAPI
from fastapi.testclient import TestClient

R = TypeVar("R")


def run_at_once(app: FastAPI, count: int, call: Callable[[TestClient, int], R]) -> list[R]:
    """Call `call(client, index)` from `count` threads at once; results in index order."""
    barrier = threading.Barrier(count)

    def worker(index: int) -> R:
        client = TestClient(app)
        barrier.wait()
        return call(client, index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(worker, range(count)))
