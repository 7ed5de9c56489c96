"""HTTP throughput of the hot endpoints, each as a share of a bare FastAPI app's in the same run.

    uv run python -m bench.http                        # SQLite, 1,000 customers, 5 s a point
    uv run python -m bench.http --seconds 3 --rounds 1 --customers 200
    uv run python -m bench.http --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres

Needs wrk (`apt-get install wrk` on Debian and Ubuntu). Seeds a fresh database with `seed.py
--customers N --bcrypt-rounds 4` (SQLite in a temporary directory; with `--database-url` a
throwaway database created on that PostgreSQL server and dropped at the end), adds one customer
with 10,000 portfolio transactions and a copy of customer00001's holdings, spending and
derivatives (bulk inserts), then serves the app (one uvicorn worker,
THROTTLE_ENABLED=false, LOG_LEVEL=WARNING) and the ceiling (`bench.ceiling`, a bare FastAPI app
answering /health) on the same uvicorn. wrk (1 thread, 32 connections, `--seconds` a point) runs
the ceiling and each scenario in turn, `--rounds` times; a scenario's share is its req/s over the
mean of the two ceiling points measured around it. Then `/health` latency during 50 concurrent
logons (bench.logon_storm, at the production bcrypt cost), the server's resident memory, and a
check of the books: every journal entry sums to zero, every balance is the sum of its postings.

Scenarios, as customer00001 (password "sandbox-password") or the benchmark's admin: GET /health;
the rules' floor (`bench.floor`, served beside the app on the same database: reading the caller
in a unit of work and nothing else); GET /accounts/overview; the first statement page of its
checking account (60 transfers made before, so the page is full); GET /user-portfolio/{oid} of
customer00001 (about 100 seeded transactions) and of the 10,000-transaction customer (the
portfolio holds the latest 100 transactions, so the two should cost about the same); POST
/transfers of 0.01 EUR between two of its EUR accounts, without and with a fresh Idempotency-Key
per request. `--only WORD` runs the scenarios whose name holds WORD.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, create_engine, func, insert
from sqlalchemy.engine import make_url
from sqlmodel import Session, col, select

from app.models.account import Account
from app.models.asset import Asset
from app.models.customer import Customer
from app.models.derivative_transaction import DerivativeTransaction
from app.models.funding_account import FundingAccount
from app.models.institution import Institution
from app.models.journal_entry import JournalEntry
from app.models.portfolio_transaction import PortfolioTransaction, TransactionType
from app.models.posting import Posting
from app.models.spending import Spending
from app.models.user import User
from app.seeding.common import SANDBOX_PASSWORD, seeded_username
from bench.logon_storm import storm
from bench.server import PROJECT_ROOT, Server, ServerError, percentile, running_server

CONNECTIONS = 32
ADMIN = ("bench.admin", "Bench-admin-password-123")
HEAVY_OID = uuid.UUID("00000000-0000-4000-8000-00000000b10c")
HEAVY_TRANSACTIONS = 10_000
STORM_LOGONS = 50
SETUP_TRANSFERS = 60  # more than a statement page (50), so the first page is a full one
_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


class BooksError(AssertionError):
    """The ledger does not add up after the run."""


@dataclass
class Point:
    """One wrk run."""

    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int


@dataclass
class Scenario:
    name: str
    path: str
    token: str | None = None
    post: dict[str, Any] | None = None  # a JSON body: POST through a Lua script
    idempotent: bool = False
    server: Server | None = None  # another server than the bank's (the rules' floor)
    points: list[Point] = field(default_factory=list)
    shares: list[float] = field(default_factory=list)


# --- wrk ---------------------------------------------------------------------------------------


def parse_wrk(output: str) -> Point:
    """Requests/sec, the 50 % and 99 % latencies, and errors (non-2xx/3xx and socket errors)."""
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    requests = re.search(r"^\s*(\d+) requests in", output, re.MULTILINE)
    if not rps or not requests:
        raise ServerError(f"cannot read wrk's output:\n{output}")
    latency = {}
    for share in ("50", "99"):
        found = re.search(rf"^\s+{share}%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)
        latency[share] = float(found[1]) * _UNITS_MS[found[2]] if found else float("nan")
    errors = 0
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if non_2xx:
        errors += int(non_2xx[1])
    socket = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if socket:
        errors += sum(int(n) for n in socket.groups())
    return Point(float(rps[1]), latency["50"], latency["99"], errors, int(requests[1]))


def lua_script(scratch: Path, scenario: Scenario) -> Path:
    """A POST with a JSON body; with `idempotent` a fresh Idempotency-Key on every request (a
    new prefix for every script, so no round replays another's keys)."""
    assert scenario.post is not None
    lines = [
        'wrk.method = "POST"',
        f"wrk.body = [=[{json.dumps(scenario.post)}]=]",
        'wrk.headers["Content-Type"] = "application/json"',
        f'wrk.headers["Authorization"] = "Bearer {scenario.token}"',
    ]
    if scenario.idempotent:
        lines += [
            f'local prefix = "bench-{secrets.token_hex(8)}-"',
            "local counter = 0",
            "request = function()",
            "  counter = counter + 1",
            '  wrk.headers["Idempotency-Key"] = prefix .. counter',
            "  return wrk.format()",
            "end",
        ]
    path = scratch / f"post-{secrets.token_hex(4)}.lua"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_wrk(base_url: str, scenario: Scenario, seconds: int, scratch: Path) -> Point:
    command = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    if scenario.token:
        command += ["-H", f"Authorization: Bearer {scenario.token}"]
    if scenario.post is not None:
        command += ["-s", str(lua_script(scratch, scenario))]
    command.append(base_url + scenario.path)
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise ServerError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return parse_wrk(done.stdout)


# --- the database ------------------------------------------------------------------------------


@contextmanager
def database(scratch: Path, server_url: str | None) -> Iterator[str]:
    """A fresh SQLite file in `scratch`, or a throwaway database on the PostgreSQL server of
    `server_url` (created through the database that URL names, dropped at the end)."""
    if not server_url:
        yield f"sqlite:///{scratch / 'openbank.db'}"
        return
    url = make_url(server_url)
    if url.drivername == "postgresql" or url.drivername == "postgres":
        url = url.set(drivername="postgresql+psycopg")
    name = f"openbank_bench_{secrets.token_hex(4)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


def seed(scratch: Path, url: str, customers: int) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY")}
    env.update({"DATABASE_URL": url, "SECRET_KEY_FILE": str(scratch / "secret")})
    log = scratch / "seed.log"
    with log.open("wb") as out:
        done = subprocess.run(  # noqa: S603 - fixed command line
            [
                sys.executable,
                str(PROJECT_ROOT / "seed.py"),
                "--customers",
                str(customers),
                "--bcrypt-rounds",
                "4",
            ],
            cwd=scratch,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if done.returncode != 0:
        raise ServerError(f"seed.py failed:\n{log.read_text(errors='replace')[-3000:]}")


def _table(model: Any) -> Table:
    return cast(Table, model.__table__)


def add_heavy_customer(url: str, twin: uuid.UUID) -> None:
    """One customer with HEAVY_TRANSACTIONS portfolio transactions (card payments and a monthly
    salary, on no account: the portfolio reads them, the ledger does not), and a copy of
    `twin`'s holdings, spending and derivatives, so that the two portfolios differ only in
    their history; in bulk inserts."""
    engine = create_engine(url)
    start = datetime(2020, 1, 1, tzinfo=UTC)
    rows = [
        {
            "customer_id": HEAVY_OID,
            "account_id": None,
            "transaction_type": TransactionType.salary if n % 50 == 0 else TransactionType.card,
            "occurred_at": start + timedelta(hours=4 * n),
            "amount": Decimal("3500.00") if n % 50 == 0 else -Decimal(5 + n % 97),
            "currency": "EUR",
            "category": "income" if n % 50 == 0 else "groceries",
            "counterparty": "Bench Employer" if n % 50 == 0 else "Bench Grocer",
            "description": None,
        }
        for n in range(HEAVY_TRANSACTIONS)
    ]
    try:
        with Session(engine) as session:
            session.execute(
                insert(_table(Customer)),
                [{"id": HEAVY_OID, "name": "Bench Heavy", "created_at": start}],
            )
            session.execute(insert(_table(PortfolioTransaction)), rows)
            for model in (Asset, Spending, DerivativeTransaction):
                table = _table(model)
                copies = [
                    {**row._asdict(), "id": None, "customer_id": HEAVY_OID}
                    for row in session.execute(table.select().where(table.c.customer_id == twin))
                ]
                if copies:
                    session.execute(insert(table), [_without_id(c) for c in copies])
            session.commit()
    finally:
        engine.dispose()


def _without_id(row: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in row.items() if key != "id"}


def customer_oid(url: str, username: str) -> tuple[uuid.UUID, int]:
    """The customer behind `username` and how many portfolio transactions it has."""
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            oid = session.exec(select(User.customer_id).where(User.username == username)).one()
            assert oid is not None
            count = session.exec(
                select(func.count()).where(col(PortfolioTransaction.customer_id) == oid)
            ).one()
            return oid, int(count)
    finally:
        engine.dispose()


def check_books(url: str) -> tuple[int, int]:
    """Every journal entry sums to zero per currency; every ledger account's balance (customer
    accounts at this bank, funding accounts) is the sum of its postings. Returns the number of
    entries and of accounts checked; raises BooksError otherwise."""
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            total = func.sum(Posting.amount)
            unbalanced = session.exec(
                select(Posting.journal_entry_id, Posting.currency, total)
                .group_by(col(Posting.journal_entry_id), col(Posting.currency))
                .having(total != 0)
            ).all()
            if unbalanced:
                raise BooksError(f"journal entries that do not sum to zero: {unbalanced[:10]}")
            entries = session.exec(select(func.count()).select_from(JournalEntry)).one()
            per_account = dict(
                session.exec(
                    select(Posting.account_id, total)
                    .where(col(Posting.account_id).is_not(None))
                    .group_by(col(Posting.account_id))
                ).all()
            )
            per_fund = dict(
                session.exec(
                    select(Posting.funding_account_id, total)
                    .where(col(Posting.funding_account_id).is_not(None))
                    .group_by(col(Posting.funding_account_id))
                ).all()
            )
            accounts = session.exec(
                select(col(Account.id), col(Account.iban), col(Account.balance))
                .join(Institution, col(Institution.id) == col(Account.institution_id))
                .where(col(Institution.is_own_bank))
            ).all()
            funds = session.exec(
                select(
                    col(FundingAccount.id),
                    col(FundingAccount.currency),
                    col(FundingAccount.balance),
                )
            ).all()
            wrong = [
                (iban, balance, per_account.get(account_id, Decimal(0)))
                for account_id, iban, balance in accounts
                if balance != per_account.get(account_id, Decimal(0))
            ] + [
                (f"funding {currency}", balance, per_fund.get(fund_id, Decimal(0)))
                for fund_id, currency, balance in funds
                if balance != per_fund.get(fund_id, Decimal(0))
            ]
            if wrong:
                raise BooksError(f"balances that are not the sum of their postings: {wrong[:10]}")
            return int(entries), len(accounts) + len(funds)
    finally:
        engine.dispose()


# --- through the API ---------------------------------------------------------------------------


def expect(answer: Any, status: int, what: str) -> Any:
    if answer.status != status:
        raise ServerError(f"{what}: {answer.status} {answer.body}")
    return answer.body


def logon(server: Server, username: str, password: str) -> str:
    body = expect(
        server.request("POST", "/auth/logon", form={"username": username, "password": password}),
        200,
        f"logon {username}",
    )
    return str(body["access_token"])


def two_eur_accounts(server: Server, token: str) -> list[str]:
    """The customer's EUR accounts at this bank, opening EUR ones of free types until there are
    two (the checking account, always EUR, first)."""

    def eur() -> tuple[list[str], set[str]]:
        body = expect(server.request("GET", "/accounts/overview", token=token), 200, "overview")
        accounts = body["accounts"]
        ibans = [a["iban"] for a in accounts if a["currency"] == "EUR"]
        ibans.sort(key=lambda iban: next(a for a in accounts if a["iban"] == iban)["account_type"])
        return ibans, {a["account_type"] for a in accounts}

    ibans, types = eur()
    for account_type in ("saving", "investment"):
        if len(ibans) >= 2:
            break
        if account_type not in types:
            expect(
                server.request(
                    "POST",
                    "/accounts/open",
                    json_body={"account_type": account_type, "currency": "EUR"},
                    token=token,
                ),
                201,
                "open account",
            )
            ibans, types = eur()
    return ibans


def rss_kib(pid: int) -> int:
    """Resident memory of the process and of its children (uvicorn's workers), in KiB."""
    total = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            total = int(line.split()[1])
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            total += rss_kib(int(child))
    return total


# --- the run -----------------------------------------------------------------------------------


def measure(
    app: Server,
    ceiling: Server,
    scenarios: list[Scenario],
    rounds: int,
    seconds: int,
    scratch: Path,
) -> list[Point]:
    """Ceiling, scenario, ceiling, scenario, ... and a last ceiling point: every scenario point
    lies between two ceiling points."""
    bare = Scenario("ceiling", "/health")
    ceilings = [run_wrk(ceiling.base_url, bare, seconds, scratch)]
    print(f"  ceiling                        {ceilings[-1].rps:9.0f} req/s", flush=True)
    for scenario in scenarios:
        for _ in range(rounds):
            point = run_wrk((scenario.server or app).base_url, scenario, seconds, scratch)
            scenario.points.append(point)
            ceilings.append(run_wrk(ceiling.base_url, bare, seconds, scratch))
            share = point.rps / statistics.mean((ceilings[-2].rps, ceilings[-1].rps))
            scenario.shares.append(share)
            print(
                f"  {scenario.name:<30} {point.rps:9.0f} req/s  p50 {point.p50_ms:7.1f} ms  "
                f"p99 {point.p99_ms:7.1f} ms  errors {point.errors}  share {share:6.1%}   "
                f"(ceiling {ceilings[-1].rps:.0f})",
                flush=True,
            )
    return ceilings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=1000, help="seeded customers (1000)")
    parser.add_argument("--seconds", type=int, default=5, help="seconds per wrk point (5)")
    parser.add_argument("--rounds", type=int, default=2, help="points per scenario (2)")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="uvicorn workers of the app (1); the ceiling keeps one, so the share shows what "
        "more workers buy",
    )
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server to run on (a throwaway database is made there); "
        "default: a fresh SQLite file",
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="WORD",
        help="run only the scenarios whose name holds WORD (repeatable), e.g. --only floor "
        "--only overview",
    )
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        print(
            "bench.http needs wrk, the HTTP load generator: `apt-get install wrk` on Debian "
            "and Ubuntu (`brew install wrk` on macOS)",
            file=sys.stderr,
        )
        return 2
    with (
        tempfile.TemporaryDirectory(prefix="openbank-bench-") as scratch_name,
        database(Path(scratch_name), args.database_url) as url,
    ):
        return run(Path(scratch_name), url, args)


def run(scratch: Path, url: str, args: argparse.Namespace) -> int:
    backend = make_url(url).get_backend_name()
    print(f"seeding {args.customers} customers on {backend} ...", flush=True)
    started = time.perf_counter()
    seed(scratch, url, args.customers)
    print(f"  seeded in {time.perf_counter() - started:.0f} s", flush=True)
    typical, typical_count = customer_oid(url, seeded_username(1))
    add_heavy_customer(url, typical)
    (scratch / "app").mkdir()
    (scratch / "ceiling").mkdir()
    (scratch / "floor").mkdir()
    env = {
        "DATABASE_URL": url,
        "SECRET_KEY_FILE": str(scratch / "secret"),
        "THROTTLE_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
        "ACCESS_TOKEN_EXPIRE_MINUTES": "240",
        "ADMIN_USERNAME": ADMIN[0],
        "ADMIN_PASSWORD": ADMIN[1],
    }
    quiet = ("--log-level", "warning")  # no access log line per request, on both servers
    with (
        running_server(scratch / "app", env=env, workers=args.workers, extra_args=quiet) as app,
        running_server(
            scratch / "ceiling",
            env={"LOG_LEVEL": "WARNING"},
            app="bench.ceiling:app",
            extra_args=quiet,
        ) as ceiling,
        running_server(
            scratch / "floor", env=env, app="bench.floor:app", extra_args=quiet
        ) as floor,
    ):
        admin = logon(app, *ADMIN)
        customer = logon(app, seeded_username(1), SANDBOX_PASSWORD)
        checking, other = two_eur_accounts(app, customer)[:2]
        expect(
            app.request(
                "POST",
                f"/admin/accounts/{checking}/deposit",
                json_body={"amount": "100000.00", "description": "bench funding"},
                token=admin,
            ),
            201,
            "deposit",
        )
        transfer = {"from_iban": checking, "to_iban": other, "amount": "0.01", "currency": "EUR",
                    "description": "bench"}  # fmt: skip
        for _ in range(SETUP_TRANSFERS):
            expect(app.request("POST", "/transfers", json_body=transfer, token=customer), 201, "tx")
        scenarios = [
            Scenario("GET /health", "/health"),
            Scenario("GET the rules' floor", "/bench/floor", customer, server=floor),
            Scenario("GET /accounts/overview", "/accounts/overview", customer),
            Scenario("GET statement, first page", f"/accounts/{checking}/transactions", customer),
            Scenario(f"GET portfolio ({typical_count} tx)", f"/user-portfolio/{typical}", admin),
            Scenario(
                f"GET portfolio ({HEAVY_TRANSACTIONS:,} tx)", f"/user-portfolio/{HEAVY_OID}", admin
            ),
            Scenario("POST /transfers", "/transfers", customer, transfer),
            Scenario("POST /transfers + Idem-Key", "/transfers", customer, transfer, True),
        ]
        scenarios = [
            s
            for s in scenarios
            if not args.only or any(word.lower() in s.name.lower() for word in args.only)
        ]
        print(
            f"wrk: 1 thread, {CONNECTIONS} connections, {args.seconds} s a point, "
            f"{args.rounds} round(s)",
            flush=True,
        )
        ceilings = measure(app, ceiling, scenarios, args.rounds, args.seconds, scratch)
        app_rss, ceiling_rss = rss_kib(app.process.pid), rss_kib(ceiling.process.pid)
        print(f"/health during {STORM_LOGONS} concurrent logons ...", flush=True)
        idle = [_timed(app) for _ in range(200)]
        storm_latencies, outcomes = storm(app, STORM_LOGONS, args.seconds)
        storm_rss = rss_kib(app.process.pid)
    entries, accounts = check_books(url)
    print(f"books: {entries} journal entries sum to zero, {accounts} balances match their postings")

    print()
    print(
        f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}, database {backend}, "
        f"{args.customers} customers, {args.workers} app worker(s)"
    )
    print(
        f"server resident memory (VmRSS): {app_rss / 1024:.0f} MiB after the wrk scenarios, "
        f"{storm_rss / 1024:.0f} MiB after the logon storm; ceiling app "
        f"{ceiling_rss / 1024:.0f} MiB"
    )
    print(
        f"ceiling (bare FastAPI /health): mean {statistics.mean(p.rps for p in ceilings):.0f} "
        f"req/s over {len(ceilings)} points"
    )
    print()
    print("| scenario | req/s | p50 ms | p99 ms | errors | share of ceiling |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for s in scenarios:
        print(
            f"| {s.name} | {statistics.mean(p.rps for p in s.points):.0f} "
            f"| {statistics.median(p.p50_ms for p in s.points):.1f} "
            f"| {max(p.p99_ms for p in s.points):.1f} | {sum(p.errors for p in s.points)} "
            f"| {statistics.mean(s.shares):.1%} |"
        )
    answers = ", ".join(f"{code}: {n}" for code, n in sorted(outcomes.items()))
    print(
        f"| GET /health, idle (sequential) | | {percentile(idle, 0.5):.1f} "
        f"| {percentile(idle, 0.99):.1f} | 0 | |"
    )
    print(
        f"| GET /health during {STORM_LOGONS} logons (sequential) | "
        f"| {percentile(storm_latencies, 0.5):.1f} | {percentile(storm_latencies, 0.99):.1f} "
        f"| 0 | logons answered {answers} |"
    )
    return 0


def _timed(server: Server) -> float:
    started = time.perf_counter()
    expect(server.request("GET", "/health"), 200, "/health")
    return (time.perf_counter() - started) * 1000


if __name__ == "__main__":
    raise SystemExit(main())
