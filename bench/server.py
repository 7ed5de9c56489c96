"""Start the app under uvicorn on a free loopback port, from a scratch directory, and talk to it.

Used by the benchmarks and by the multi-worker check: the server reads no `.env` of the
developer's (its working directory is a temporary one) and gets its settings from `env`.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 60.0
REQUEST_TIMEOUT_S = 30.0
# Settings a developer's shell may hold that must not leak into a measured server.
_CLEARED = {"SECRET_KEY", "ADMIN_USERNAME", "ADMIN_PASSWORD", "TEST_DATABASE_URL", "DATABASE_URL"}


class ServerError(RuntimeError):
    """The server did not start, or answered what a check did not expect."""


@dataclass
class Response:
    status: int
    body: Any
    headers: Mapping[str, str]


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = REQUEST_TIMEOUT_S,
    ) -> Response:
        """One request over a new connection (urllib does not keep connections alive)."""
        data = None
        sent = {"Connection": "close", **(headers or {})}
        if json_body is not None:
            data = json.dumps(json_body).encode()
            sent["Content-Type"] = "application/json"
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        if token:
            sent["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(  # noqa: S310 - a loopback http URL of our own
            self.base_url + path, data=data, headers=sent, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
                status, raw, got = answer.status, answer.read(), dict(answer.headers)
        except urllib.error.HTTPError as error:
            status, raw, got = error.code, error.read(), dict(error.headers)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        return Response(status, body, got)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_server(
    workdir: Path,
    *,
    env: Mapping[str, str],
    workers: int = 1,
    app: str = "app.main:app",
    extra_args: tuple[str, ...] = (),
) -> Iterator[Server]:
    """uvicorn serving `app` from `workdir` with `env` over the caller's environment (minus the
    settings in `_CLEARED`); stopped, with its workers, when the block ends."""
    port = free_port()
    full_env = {key: value for key, value in os.environ.items() if key not in _CLEARED}
    full_env.update({"PYTHONUNBUFFERED": "1", **env})
    full_env.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'openbank.db'}")
    full_env.setdefault("SECRET_KEY_FILE", str(workdir / "secret"))
    log_path = workdir / "server.log"
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--app-dir",
        str(PROJECT_ROOT),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        *extra_args,
    ]
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(  # noqa: S603 - fixed command line
            command,
            cwd=workdir,  # no .env of the developer's is read
            env=full_env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(f"http://127.0.0.1:{port}", process, log_path)
    try:
        wait_until_ready(server)
        yield server
    finally:
        stop(process)


def wait_until_ready(server: Server, path: str = "/health") -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise ServerError(f"the server exited at start:\n{server.log()[-3000:]}")
        try:
            if server.request("GET", path, timeout=5).status == 200:
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise ServerError(
        f"the server was not ready in {START_TIMEOUT_S:.0f} s:\n{server.log()[-3000:]}"
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the supervisor and its workers (their own process group), politely first."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` (0..1) of `values` lie (nearest rank)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))
    return ordered[rank]


def register_customer(
    server: Server, username: str, password: str, headers: Mapping[str, str] | None = None
) -> None:
    """Register a customer (in the sandbox the headers name, if any); ServerError unless 201."""
    answer = server.request(
        "POST",
        "/customers/register",
        json_body={
            "name": "Bench Customer",
            "dob": "1980-01-01",
            "address": "Damrak 1, 1012 LG Amsterdam",
            "country": "NL",
            "id_document": "NL1234567",
            "username": username,
            "password": password,
        },
        headers=headers,
    )
    if answer.status != 201:
        raise ServerError(f"registration failed: {answer.status} {answer.body}")


def run_for(seconds: float, workers: Sequence[Callable[[threading.Event], None]]) -> None:
    """Run each worker on a thread of its own for `seconds`; they stop when the event is set."""
    stop = threading.Event()
    pool = [threading.Thread(target=work, args=(stop,), daemon=True) for work in workers]
    for thread in pool:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in pool:
        thread.join()
