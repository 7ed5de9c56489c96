"""Start the API with several worker processes and check that they behave as one service.

    uv run python scripts/multiworker_check.py                    # fresh SQLite file, 4 workers
    uv run python scripts/multiworker_check.py --database-url postgresql+psycopg://u:p@host/db

The server runs on a free loopback port, from a temporary directory, with no SECRET_KEY: the
workers start at the same moment on an empty database and an empty key directory, so they race
to migrate and to create the signing key. The check then

1. finds the worker processes (children of the uvicorn supervisor);
2. registers a customer and logs on;
3. calls an authenticated endpoint over many new connections, from several threads, and reads
   from the server's access log (which carries the process id) which workers answered: the
   token one worker issued must be accepted by all of them;
4. rotates the refresh token through one connection, uses the new access token on others, and
   presents the old refresh token again: another worker must detect the reuse and revoke the
   session, after which every worker refuses its access tokens (session state is in the
   database, not in a process);
5. calls the MCP endpoint (`POST /mcp`) as the bootstrap admin (ADMIN_USERNAME, created by
   whichever worker started first): `initialize` on one connection, then tool calls on many
   new ones, answered by several workers with no session between them; a customer's token is
   refused by every worker;
6. (`--transfers`) funds an account with 40.00 through the admin deposit API, sends 60
   concurrent transfers of 1.00 across the workers and checks that exactly 40 succeed and the
   balances and the statement stay exact.

A PostgreSQL database given with --database-url must be empty or hold this app's schema: the
check adds a customer to it. Exit status 0 when every check passed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 60.0
REQUEST_TIMEOUT_S = 15.0
PASSWORD = "multi-worker-password"
ADMIN = "multi.admin"
MCP_HEADERS = {"Accept": "application/json, text/event-stream"}
VERSION_HEADER = {"MCP-Protocol-Version": "2025-06-18"}
ACCESS_LINE = re.compile(r"^pid=(\d+) .*\"(GET|POST) (\S+) HTTP/[\d.]+\" (\d{3})")

LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "default": {
            "()": "uvicorn.logging.DefaultFormatter",
            "fmt": "pid=%(process)d %(levelprefix)s %(message)s",
            "use_colors": False,
        },
        "access": {
            "()": "uvicorn.logging.AccessFormatter",
            "fmt": 'pid=%(process)d %(client_addr)s "%(request_line)s" %(status_code)s',
            "use_colors": False,
        },
    },
    "handlers": {
        "default": {"class": "logging.StreamHandler", "formatter": "default"},
        "access": {"class": "logging.StreamHandler", "formatter": "access"},
    },
    "loggers": {
        "uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
        "uvicorn.error": {"level": "INFO"},
        "uvicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
    },
}


class CheckFailed(AssertionError):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


@dataclass
class Response:
    status: int
    body: Any


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    workers: int
    worker_pids: set[int] = field(default_factory=set)

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        form: dict[str, str] | None = None,
        token: str | None = None,
        extra_headers: dict[str, str] | None = None,
    ) -> Response:
        """One request over a new connection (urllib does not keep connections alive)."""
        data = None
        headers = {"Connection": "close", **(extra_headers or {})}
        if json_body is not None:
            data = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(  # noqa: S310 - loopback http only
            self.base_url + path, data=data, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_S) as reply:  # noqa: S310
                raw = reply.read()
                status = reply.status
        except urllib.error.HTTPError as error:
            raw = error.read()
            status = error.code
        return Response(status, json.loads(raw) if raw else None)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def answering_pids(self, method: str, path: str) -> list[int]:
        """The process ids of the workers that answered `method path`, from the access log."""
        pids = []
        for line in self.log().splitlines():
            match = ACCESS_LINE.match(line)
            if match and match.group(2) == method and match.group(3) == path:
                pids.append(int(match.group(1)))
        return pids


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def child_pids(parent: int) -> set[int]:
    """Worker processes of the uvicorn supervisor (Linux /proc; empty elsewhere)."""
    children = set()
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and "resource_tracker" not in cmdline:
            children.add(int(entry.name))
    return children


@contextmanager
def running_server(database_url: str | None, workers: int, workdir: Path) -> Iterator[Server]:
    port = free_port()
    log_config = workdir / "log-config.json"
    log_config.write_text(json.dumps(LOG_CONFIG), encoding="utf-8")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"SECRET_KEY", "ADMIN_USERNAME", "ADMIN_PASSWORD", "TEST_DATABASE_URL"}
    }
    env.update(
        {
            "DATABASE_URL": database_url or f"sqlite:///{workdir / 'openbank.db'}",
            "SECRET_KEY_FILE": str(workdir / "secret"),
            "ENVIRONMENT": "development",
            "BCRYPT_ROUNDS": "4",
            "AUTO_MIGRATE": "true",
            "PYTHONUNBUFFERED": "1",
            # The bootstrap admin: calls MCP and funds the transfer check's account.
            "ADMIN_USERNAME": ADMIN,
            "ADMIN_PASSWORD": PASSWORD,
        }
    )
    log_path = workdir / "server.log"
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "app.main:app",
        "--app-dir",
        str(PROJECT_ROOT),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-config",
        str(log_config),
    ]
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(  # noqa: S603 - fixed command line
            command,
            cwd=workdir,  # no .env of the developer's is read
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(f"http://127.0.0.1:{port}", process, log_path, workers)
    try:
        wait_until_ready(server)
        yield server
    finally:
        stop(process)


def wait_until_ready(server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise CheckFailed(f"the server exited at start:\n{server.log()[-3000:]}")
        try:
            if server.request("GET", "/health").status == 200:
                workers = child_pids(server.process.pid)
                if len(workers) >= server.workers or not Path("/proc").exists():
                    server.worker_pids = workers
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise CheckFailed(
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


def in_parallel(calls: int, threads: int, work: Callable[[int], Response]) -> list[Response]:
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(work, range(calls)))


def register_and_logon(server: Server, username: str) -> dict[str, Any]:
    registered = server.request(
        "POST",
        "/customers/register",
        json_body={
            "name": "Multi Worker",
            "dob": "1990-05-17",
            "address": "Damrak 1, 1012 LG Amsterdam",
            "country": "NL",
            "id_document": "NL1234567",
            "username": username,
            "password": PASSWORD,
        },
    )
    check(registered.status == 201, f"registration: {registered.status} {registered.body}")
    return logon(server, username) | {"iban": registered.body["account"]["iban"]}


def logon(server: Server, username: str) -> dict[str, Any]:
    tokens = server.request(
        "POST", "/auth/logon", form={"username": username, "password": PASSWORD}
    )
    check(tokens.status == 200, f"logon: {tokens.status} {tokens.body}")
    body: dict[str, Any] = tokens.body
    return body


def check_token_accepted_by_every_worker(server: Server, access_token: str, calls: int) -> set[int]:
    """The access token from one logon, on `calls` new connections: all 200, and (with more
    than one worker) answered by more than one process."""
    answered: set[int] = set()
    for _round in range(5):  # the kernel picks the worker; a few rounds make a spread certain
        replies = in_parallel(
            calls, 8, lambda _: server.request("GET", "/customers/me", token=access_token)
        )
        failures = [r for r in replies if r.status != 200]
        check(not failures, f"{len(failures)} of {calls} calls failed: {failures[:3]}")
        time.sleep(0.2)  # let the access log catch up
        answered = set(server.answering_pids("GET", "/customers/me"))
        if len(answered) >= min(server.workers, 2):
            break
    check(
        len(answered) >= min(server.workers, 2),
        f"only worker(s) {sorted(answered)} answered: the others were never tried",
    )
    if server.worker_pids:
        strangers = answered - server.worker_pids
        check(not strangers, f"answered by {strangers}, not the workers {server.worker_pids}")
    return answered


def check_refresh_tokens_are_shared(server: Server, tokens: dict[str, Any]) -> None:
    rotated = server.request(
        "POST", "/auth/refresh", json_body={"refresh_token": tokens["refresh_token"]}
    )
    check(rotated.status == 200, f"refresh: {rotated.status} {rotated.body}")
    replies = in_parallel(
        20, 8, lambda _: server.request("GET", "/customers/me", token=rotated.body["access_token"])
    )
    check(all(r.status == 200 for r in replies), "the new access token was refused somewhere")
    reused = server.request(
        "POST", "/auth/refresh", json_body={"refresh_token": tokens["refresh_token"]}
    )
    check(reused.status == 401, f"old refresh token reused: {reused.status}, expected 401")
    revoked = server.request(
        "POST", "/auth/refresh", json_body={"refresh_token": rotated.body["refresh_token"]}
    )
    check(revoked.status == 401, f"chain not revoked after reuse: {revoked.status}")
    # The session's access tokens die with it, on every worker at once.
    dead = in_parallel(
        20,
        8,
        lambda i: server.request(
            "GET",
            "/customers/me",
            token=(tokens["access_token"], rotated.body["access_token"])[i % 2],
        ),
    )
    alive = [r for r in dead if r.status != 401]
    check(not alive, f"access tokens of the revoked session still work: {alive[:3]}")


def mcp_call(server: Server, token: str, request_id: int, method: str, params: Any) -> Response:
    body = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
    headers = MCP_HEADERS if method == "initialize" else MCP_HEADERS | VERSION_HEADER
    return server.request("POST", "/mcp", json_body=body, token=token, extra_headers=headers)


def check_mcp_is_stateless(server: Server, customer_token: str, calls: int) -> set[int]:
    """`initialize` on one connection, then `calls` tool calls on new ones that carry no session
    id: all answered, by more than one worker. A customer's token: 403 from every worker."""
    logon = server.request("POST", "/auth/logon", form={"username": ADMIN, "password": PASSWORD})
    check(logon.status == 200, f"bootstrap admin logon: {logon.status} {logon.body}")
    token = logon.body["access_token"]
    hello = {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "multiworker-check", "version": "1"},
    }
    initialized = mcp_call(server, token, 1, "initialize", hello)
    check(initialized.status == 200, f"MCP initialize: {initialized.status} {initialized.body}")
    health = {"name": "health", "arguments": {}}
    answered: set[int] = set()
    for _round in range(5):
        replies = in_parallel(
            calls, 8, lambda i: mcp_call(server, token, i + 2, "tools/call", health)
        )
        failures = [
            r for r in replies if r.status != 200 or r.body["result"]["isError"] is not False
        ]
        check(not failures, f"{len(failures)} of {calls} MCP calls failed: {failures[:3]}")
        refused = in_parallel(8, 8, lambda i: mcp_call(server, customer_token, i, "tools/list", {}))
        check(all(r.status == 403 for r in refused), f"customer token: {refused[:3]}")
        time.sleep(0.2)  # let the access log catch up
        answered = set(server.answering_pids("POST", "/mcp"))
        if len(answered) >= min(server.workers, 2):
            break
    check(len(answered) >= min(server.workers, 2), f"MCP answered by {sorted(answered)} only")
    return answered


# --- money movement (issue 4) ------------------------------------------------------------
TRANSFER_PATH = "/transfers"


def transfer(server: Server, token: str, source_iban: str, target_iban: str) -> Response:
    return server.request(
        "POST",
        TRANSFER_PATH,
        token=token,
        json_body={
            "from_iban": source_iban,
            "to_iban": target_iban,
            "amount": "1.00",
            "currency": "EUR",
            "description": "multi-worker check",
        },
    )


def fund(server: Server, iban: str, amount: str) -> None:
    """Give the account its starting balance: a deposit by the bootstrap admin, through the
    ledger like any other money."""
    logon = server.request("POST", "/auth/logon", form={"username": ADMIN, "password": PASSWORD})
    check(logon.status == 200, f"admin logon: {logon.status} {logon.body}")
    deposit = server.request(
        "POST",
        f"/admin/accounts/{iban}/deposit",
        token=logon.body["access_token"],
        json_body={"amount": amount, "description": "multi-worker check funding"},
    )
    check(deposit.status == 201, f"deposit: {deposit.status} {deposit.body}")


def check_concurrent_transfers(
    server: Server, payer: dict[str, Any], payee: dict[str, Any]
) -> None:
    """60 transfers of 1.00 at once from an account holding 40.00, spread over the workers:
    exactly 40 succeed, the rest are refused, and the payer ends at 0.00, the payee at 40.00."""
    fund(server, payer["iban"], "40.00")
    replies = in_parallel(
        60, 12, lambda _: transfer(server, payer["access_token"], payer["iban"], payee["iban"])
    )
    accepted = [r for r in replies if 200 <= r.status < 300]
    refused = [r for r in replies if r.status in (409, 422)]
    check(len(accepted) == 40, f"{len(accepted)} transfers accepted, expected 40")
    check(len(accepted) + len(refused) == 60, f"unexpected answers: {replies}")

    def balance(tokens: dict[str, Any]) -> str:
        overview = server.request("GET", "/accounts/overview", token=tokens["access_token"])
        return str(
            next(a["balance"] for a in overview.body["accounts"] if a["iban"] == tokens["iban"])
        )

    check(balance(payer) == "0.00", f"payer balance {balance(payer)}, expected 0.00")
    check(balance(payee) == "40.00", f"payee balance {balance(payee)}, expected 40.00")
    statement = server.request(
        "GET", f"/accounts/{payer['iban']}/transactions?limit=100", token=payer["access_token"]
    )
    check(statement.status == 200, f"statement: {statement.status}")
    lines = statement.body["items"] if isinstance(statement.body, dict) else []
    # The funding deposit and exactly one line per accepted transfer: no lost or double posting.
    check(len(lines) == 41, f"{len(lines)} statement lines, expected 41")
    answered = set(server.answering_pids("POST", TRANSFER_PATH))
    check(len(answered) >= min(server.workers, 2), f"transfers answered by {answered} only")


# --- main ----------------------------------------------------------------------------------


def run(
    database_url: str | None, workers: int, calls: int, transfers: bool, say: Callable[[str], None]
) -> None:
    with tempfile.TemporaryDirectory(prefix="openbank-workers-") as tmp:
        workdir = Path(tmp)
        url = database_url or f"sqlite:///{workdir / 'openbank.db'}"
        label = url.split("://", 1)[0]
        say(f"starting uvicorn app.main:app --workers {workers} on {label} (fresh key directory)")
        with running_server(url, workers, workdir) as server:
            say(f"{server.base_url} up; worker processes: {sorted(server.worker_pids)}")
            if server.worker_pids:
                check(
                    len(server.worker_pids) == workers,
                    f"{len(server.worker_pids)} worker processes, expected {workers}",
                )
            tokens = register_and_logon(server, "multi.worker")
            say("registered a customer and logged on")
            answered = check_token_accepted_by_every_worker(server, tokens["access_token"], calls)
            say(
                f"the access token was accepted on every call; workers that answered: "
                f"{sorted(answered)} ({len(answered)} of {workers})"
            )
            check_refresh_tokens_are_shared(server, tokens)
            say(
                "refresh rotated on one connection, new token accepted on 20 others, reuse of the "
                "old one detected and the session revoked: its access tokens refused everywhere"
            )
            tokens = logon(server, "multi.worker") | {"iban": tokens["iban"]}
            mcp_workers = check_mcp_is_stateless(server, tokens["access_token"], calls)
            say(
                f"MCP: initialize on one connection, {calls} tool calls on new ones answered by "
                f"workers {sorted(mcp_workers)}, no session; a customer's token refused"
            )
            if transfers:
                payee = register_and_logon(server, "multi.payee")
                check_concurrent_transfers(server, tokens, payee)
                say("60 concurrent transfers across workers: 40 accepted, balances exact")
            else:
                say("transfers across workers: not checked (run with --transfers)")
            key_files = sorted(p.name for p in workdir.iterdir() if "secret" in p.name)
            check(key_files == ["secret"], f"key files left: {key_files}")
            errors = [
                line for line in server.log().splitlines() if "ERROR" in line or "Traceback" in line
            ]
            check(not errors, "the server logged errors:\n" + "\n".join(errors[:20]))
    say("multi-worker check passed")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--requests", type=int, default=40, help="calls per round (default 40)")
    parser.add_argument("--transfers", action="store_true", help="also check money movement")
    args = parser.parse_args(argv)
    try:
        run(args.database_url, args.workers, args.requests, args.transfers, print)
    except CheckFailed as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
