"""`/health` latency while a storm of logons runs: does password hashing starve the server?

    uv run python -m bench.logon_storm                 # 50 concurrent logons, 10 s, SQLite
    uv run python -m bench.logon_storm --logons 50 --seconds 10 --database-url postgresql+psycopg://...

One uvicorn worker at the production bcrypt cost (BCRYPT_ROUNDS=12). `--logons` threads, each
with an account of its own, log on in a loop with the right password while one probe calls
`GET /health` back to back; the report gives the probe's p50, p99 and maximum, and how the
logons were answered (200, or 503 when a logon waited longer than the bound for a free
password-hashing slot).
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from bench.server import Server, ServerError, percentile, register_customer, running_server

PASSWORD = "storm-password-123"


def storm(server: Server, logons: int, seconds: float) -> tuple[list[float], Counter[int]]:
    usernames = [f"storm.{index:03d}" for index in range(logons)]
    for username in usernames:
        register_customer(server, username, PASSWORD)
    stop = threading.Event()
    outcomes: Counter[int] = Counter()
    lock = threading.Lock()

    def logon_loop(username: str) -> None:
        while not stop.is_set():
            answer = server.request(
                "POST", "/auth/logon", form={"username": username, "password": PASSWORD}
            )
            with lock:
                outcomes[answer.status] += 1

    threads = [threading.Thread(target=logon_loop, args=(name,), daemon=True) for name in usernames]
    for thread in threads:
        thread.start()
    time.sleep(1.0)  # let the storm build up
    latencies: list[float] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.perf_counter()
        status = server.request("GET", "/health").status
        latencies.append((time.perf_counter() - started) * 1000)
        if status != 200:
            raise ServerError(f"/health answered {status} during the storm")
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    return latencies, outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--logons", type=int, default=50, help="concurrent logons (50)")
    parser.add_argument("--seconds", type=float, default=10.0, help="probe duration (10)")
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--bcrypt-rounds", type=int, default=12, help="bcrypt cost (12)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="openbank-bench-") as scratch:
        env = {"BCRYPT_ROUNDS": str(args.bcrypt_rounds), "LOG_LEVEL": "WARNING"}
        if args.database_url:
            env["DATABASE_URL"] = args.database_url
        with running_server(Path(scratch), env=env) as server:
            baseline = [_timed(server) for _ in range(200)]
            latencies, outcomes = storm(server, args.logons, args.seconds)
    print(
        f"/health idle:        p50 {percentile(baseline, 0.5):7.1f} ms   "
        f"p99 {percentile(baseline, 0.99):7.1f} ms"
    )
    print(
        f"/health under storm: p50 {percentile(latencies, 0.5):7.1f} ms   "
        f"p99 {percentile(latencies, 0.99):7.1f} ms   max {max(latencies):7.1f} ms   "
        f"({len(latencies)} probes, {args.logons} concurrent logons)"
    )
    answers = ", ".join(f"{code}: {n}" for code, n in sorted(outcomes.items()))
    print(f"logon answers:      {answers}")
    return 0


def _timed(server: Server) -> float:
    started = time.perf_counter()
    server.request("GET", "/health")
    return (time.perf_counter() - started) * 1000


if __name__ == "__main__":
    raise SystemExit(main())
