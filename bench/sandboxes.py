"""Sandboxes: how fast they are made, snapshotted, restored and forked, how one server does with
many of them, and what the header costs on a hot path.

    uv run python -m bench.sandboxes                          # SQLite, 50 runs, 1,000 live
    uv run python -m bench.sandboxes --runs 20 --live 200 --database-url postgresql+psycopg://...

One uvicorn worker. Reports p50 and p95 over `--runs` of: create from `demo` (20 customers, the
template already built), snapshot, restore, fork; then makes `--live` sandboxes in all and sends
requests spread over every one of them; then `GET /accounts/overview` throughput for a customer
of the default sandbox (no header) and one of a sandbox (with it), alternated.
"""

from __future__ import annotations

import argparse
import random
import secrets
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from bench.server import (
    Server,
    ServerError,
    percentile,
    register_customer,
    run_for,
    running_server,
)

HEADER = "OpenBank-Sandbox"
PASSWORD = "bench-password-123"
ADMIN = "bench.admin"


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = call()
    return (time.perf_counter() - started) * 1000, result


def expect(answer: Any, status: int, what: str) -> Any:
    if answer.status != status:
        raise ServerError(f"{what}: {answer.status} {answer.body}")
    return answer.body


def create(server: Server, body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
    return expect(
        server.request("POST", "/sandboxes", json_body=body, headers=headers), 201, "create"
    )


def admin_headers(server: Server, created: dict[str, Any]) -> dict[str, str]:
    admin = created["credentials"]["admin"]
    header = {HEADER: created["sandbox_id"]}
    tokens = expect(
        server.request(
            "POST",
            "/auth/logon",
            form={"username": admin["username"], "password": admin["password"]},
            headers=header,
        ),
        200,
        "logon",
    )
    return {**header, "Authorization": f"Bearer {tokens['access_token']}"}


def report(name: str, times: list[float]) -> None:
    print(
        f"{name:<28} p50 {percentile(times, 0.5):7.1f} ms   p95 {percentile(times, 0.95):7.1f} ms"
        f"   ({len(times)} runs)"
    )


def operations(server: Server, runs: int) -> None:
    create(server, {"template": "demo"})  # builds the template once (cached from then on)
    made = [timed(lambda: create(server, {"template": "demo"})) for _ in range(runs)]
    report("create (demo, 20 customers)", [t for t, _ in made])
    first = made[0][1]
    admin = admin_headers(server, first)
    sid = first["sandbox_id"]

    def snapshot(name: str) -> None:
        answer = server.request(
            "POST", f"/sandboxes/{sid}/snapshots", json_body={"name": name}, headers=admin
        )
        expect(answer, 201, "snapshot")

    def restore(name: str) -> None:
        answer = server.request(
            "POST", f"/sandboxes/{sid}/restore", json_body={"snapshot": name}, headers=admin
        )
        expect(answer, 200, "restore")

    snapshots = [timed(partial(snapshot, f"s{i}"))[0] for i in range(runs)]
    report("snapshot", snapshots)
    restores = [timed(partial(restore, f"s{i}"))[0] for i in range(runs)]
    report("restore", restores)
    forks = [
        timed(lambda: create(server, {"from": {"sandbox_id": sid}}, headers=admin))[0]
        for _ in range(runs)
    ]
    report("fork (current state)", forks)


def many(server: Server, live: int, threads: int, seconds: float) -> None:
    have = expect(server.request("GET", "/health"), 200, "health")["sandboxes"]
    started = time.perf_counter()
    ids = [create(server, {"template": "empty"})["sandbox_id"] for _ in range(max(0, live - have))]
    print(f"made {len(ids)} more sandboxes in {time.perf_counter() - started:.1f} s")
    health = expect(server.request("GET", "/health"), 200, "health")
    print(f"live sandboxes: {health['sandboxes']}")
    latencies: list[float] = []
    outcomes: Counter[int] = Counter()
    lock = threading.Lock()
    queue = list(ids)
    random.shuffle(queue)

    def worker(offset: int, stop: threading.Event) -> None:
        index = offset
        while not stop.is_set():
            sandbox = queue[index % len(queue)]
            index += threads
            t0 = time.perf_counter()
            status = server.request("GET", "/countries", headers={HEADER: sandbox}).status
            with lock:
                latencies.append((time.perf_counter() - t0) * 1000)
                outcomes[status] += 1

    run_for(seconds, [partial(worker, i) for i in range(threads)])
    answers = ", ".join(f"{code}: {n}" for code, n in sorted(outcomes.items()))
    print(
        f"GET /countries over {len(ids)} sandboxes: {len(latencies) / seconds:7.1f} req/s   "
        f"p50 {percentile(latencies, 0.5):6.1f} ms   p99 {percentile(latencies, 0.99):6.1f} ms   "
        f"({answers})"
    )


def customer_headers(server: Server, headers: dict[str, str], username: str) -> dict[str, str]:
    register_customer(server, username, PASSWORD, headers)
    tokens = expect(
        server.request(
            "POST",
            "/auth/logon",
            form={"username": username, "password": PASSWORD},
            headers=headers,
        ),
        200,
        "logon",
    )
    return {**headers, "Authorization": f"Bearer {tokens['access_token']}"}


def throughput(server: Server, headers: dict[str, str], threads: int, seconds: float) -> float:
    count = 0
    lock = threading.Lock()

    def worker(stop: threading.Event) -> None:
        nonlocal count
        while not stop.is_set():
            answer = server.request("GET", "/accounts/overview", headers=headers)
            if answer.status != 200:
                raise ServerError(f"overview: {answer.status} {answer.body}")
            with lock:
                count += 1

    run_for(seconds, [worker] * threads)
    return count / seconds


def header_cost(server: Server, threads: int, seconds: float, rounds: int) -> None:
    default = customer_headers(server, {}, "bench.default")
    sandbox = create(server, {"template": "empty"})
    inside = customer_headers(server, {HEADER: sandbox["sandbox_id"]}, "bench.inside")
    without: list[float] = []
    with_header: list[float] = []
    for _ in range(rounds):  # alternated, so drift in the machine's load hits both
        without.append(throughput(server, default, threads, seconds))
        with_header.append(throughput(server, inside, threads, seconds))
    a, b = sum(without) / rounds, sum(with_header) / rounds
    print(
        f"GET /accounts/overview: {a:7.1f} req/s without the header, {b:7.1f} req/s with it "
        f"({(b - a) / a * 100:+.1f} %, {rounds} alternated rounds of {seconds:.0f} s, "
        f"{threads} clients)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50, help="runs of each operation (50)")
    parser.add_argument("--live", type=int, default=1000, help="live sandboxes in all (1000)")
    parser.add_argument("--threads", type=int, default=8, help="concurrent clients (8)")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per load phase (5)")
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="openbank-bench-") as scratch:
        env = {
            "LOG_LEVEL": "WARNING",
            "THROTTLE_ENABLED": "false",
            "SANDBOX_MAX_LIVE": str(args.live + 4 * args.runs + 10),
            "SANDBOX_DIR": str(Path(scratch) / "sandboxes"),
            "ADMIN_USERNAME": ADMIN,
            "ADMIN_PASSWORD": secrets.token_urlsafe(24),
        }
        if args.database_url:
            env["DATABASE_URL"] = args.database_url
        with running_server(Path(scratch), env=env) as server:
            operations(server, args.runs)
            header_cost(server, args.threads, args.seconds, rounds=3)
            many(server, args.live, args.threads, args.seconds)
            if args.database_url:  # each sandbox is a database on the server: remove them
                remove_all(server, env["ADMIN_PASSWORD"])
    return 0


def remove_all(server: Server, password: str) -> None:
    tokens = expect(
        server.request("POST", "/auth/logon", form={"username": ADMIN, "password": password}),
        200,
        "admin logon",
    )
    admin = {"Authorization": f"Bearer {tokens['access_token']}"}
    listed = expect(server.request("GET", "/sandboxes", headers=admin), 200, "list")
    for sandbox in listed:
        server.request("DELETE", f"/sandboxes/{sandbox['sandbox_id']}", headers=admin)
    print(f"removed {len(listed)} sandboxes")


if __name__ == "__main__":
    raise SystemExit(main())
