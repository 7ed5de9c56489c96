"""The generated signing key: workers that start at once on a fresh directory agree on one."""

from __future__ import annotations

import multiprocessing
import stat
import threading
from pathlib import Path
from typing import Any

import pytest

from app.core.config import ConfigError, _read_or_create_secret_file


def _start_worker(path: Path, barrier: Any, results: Any) -> None:
    barrier.wait(timeout=30)
    try:
        results.put(_read_or_create_secret_file(path))
    except Exception as exc:  # reported by the test
        results.put(f"error: {exc!r}")


def test_processes_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    path = tmp_path / "secret"
    barrier = context.Barrier(4)
    results = context.Queue()
    workers = [
        context.Process(target=_start_worker, args=(path, barrier, results)) for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    keys = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)

    assert len(set(keys)) == 1, keys
    assert len(keys[0]) >= 32
    assert path.read_text() == keys[0]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["secret"]  # no temporary file left


def _create_at_once(path: Path, threads: int) -> list[str]:
    barrier = threading.Barrier(threads)
    keys: list[str] = []

    def start() -> None:
        barrier.wait(timeout=10)
        keys.append(_read_or_create_secret_file(path))

    started = [threading.Thread(target=start) for _ in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join(timeout=10)
    return keys


def test_threads_never_see_a_half_written_key(tmp_path: Path) -> None:
    for round_ in range(20):
        keys = _create_at_once(tmp_path / f"secret-{round_}", threads=8)
        assert len(keys) == 8
        assert len(set(keys)) == 1


def test_the_key_survives_restarts(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    assert _read_or_create_secret_file(path) == _read_or_create_secret_file(path)


def test_an_empty_key_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_text("")
    with pytest.raises(ConfigError, match="empty or too short"):
        _read_or_create_secret_file(path)
