"""Schemathesis against the running app: every default check, the phases examples, coverage,
fuzzing and stateful, with a customer's token and with an admin's. Any finding fails the test.

The app runs in a real server (uvicorn on a free loopback port, in a thread) over the test
database, and the schemathesis command line runs against its `/openapi.json`, as the README
shows; `schemathesis.toml` supplies the hooks and the examples per operation.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import uvicorn
from fastapi import FastAPI

from app.core.config import Settings
from tests.utils.auth import create_staff_user, registration_body

ROOT = Path(__file__).resolve().parents[2]
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
PHASES = "examples,coverage,fuzzing,stateful"
MAX_EXAMPLES = 25
SEED = 20260101


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The test settings, with sandboxes small: the fuzzer creates, forks and snapshots them."""
    return settings.model_copy(update={"sandbox_max_customers": 20, "sandbox_max_live": 500})


@pytest.fixture
def live_url(app: FastAPI) -> Iterator[str]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "the server stopped while starting"
        assert time.monotonic() < deadline, "the server did not start in 30 s"
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def _token(url: str, role: str, app: FastAPI) -> str:
    with requests.Session() as http:
        if role == "admin":
            create_staff_user(app.state.engine, "fuzz.admin", "admin-password-123", role="admin")
            username, password = "fuzz.admin", "admin-password-123"
        else:
            body = registration_body("fuzz.customer")
            assert http.post(f"{url}/customers/register", json=body, timeout=30).status_code == 201
            username, password = body["username"], body["password"]
        logon = http.post(
            f"{url}/auth/logon", data={"username": username, "password": password}, timeout=30
        )
        assert logon.status_code == 200, logon.text
        return str(logon.json()["access_token"])


def _build_the_demo_template(url: str) -> None:
    """The fuzzer's sandboxes are all made from one template (its hooks fix the seed and the
    size), built on first use by living its customers' year: about a second, once. Built here
    first, so the fuzzer's own requests (10 s each at most) find it made."""
    with requests.Session() as http:
        made = http.post(
            f"{url}/sandboxes",
            json={"name": "template", "template": "demo", "seed": 42, "customers": 20},
            timeout=300,
        )
        assert made.status_code == 201, made.text
        created = made.json()
        assert http.delete(
            f"{url}/sandboxes/{created['sandbox_id']}",
            headers={"OpenBank-Sandbox": created["sandbox_id"],
                     "Authorization": f"Bearer {_sandbox_admin_token(http, url, created)}"},
            timeout=30,
        ).status_code == 204  # fmt: skip


def _sandbox_admin_token(http: requests.Session, url: str, created: dict[str, object]) -> str:
    admin = created["credentials"]["admin"]  # type: ignore[index]
    logon = http.post(
        f"{url}/auth/logon",
        data={"username": admin["username"], "password": admin["password"]},
        headers={"OpenBank-Sandbox": str(created["sandbox_id"])},
        timeout=30,
    )
    assert logon.status_code == 200, logon.text
    return str(logon.json()["access_token"])


@pytest.mark.parametrize("role", ["customer", "admin"])
def test_schemathesis_finds_nothing(live_url: str, app: FastAPI, role: str) -> None:
    _build_the_demo_template(live_url)
    token = _token(live_url, role, app)
    command = [
        str(SCHEMATHESIS),
        "run",
        f"{live_url}/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--phases",
        PHASES,
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--no-color",
    ]
    result = subprocess.run(  # noqa: S603 - our own command line
        command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-20000:]
    assert re.search(r"\b\d+ (failures?|errors?)\b", output) is None, output[-20000:]
    assert "generated" in output  # it did run cases
