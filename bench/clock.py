"""The sandbox's clock on a seeded bank: one advance by a month, and what it writes.

    uv run python -m bench.clock                      # SQLite, 1,000 seeded customers
    uv run python -m bench.clock --customers 200 --months 3

Seeds a fresh SQLite database (`seed.py --customers N --bcrypt-rounds 4`), gives every seeded
customer a monthly standing order of 1.00 EUR to the next one (starting the sandbox's
tomorrow), then advances the clock one month at a time (`--months`), in process (the app under
Starlette's test client: one request, no network), and prints for each advance its time, what it
ran (`executed`: the occurrences, the month's interest on the saving accounts) and the rows it
wrote, by table. It then checks the books: every journal entry sums to zero and every balance is
the sum of its postings.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, inspect, select, text
from sqlalchemy import table as sa_table
from sqlalchemy.engine import Engine

from app.seeding.common import DEMO_ADMIN, SANDBOX_PASSWORD, seeded_username
from bench.http import seed
from bench.server import ServerError


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table: int(
                connection.execute(select(func.count()).select_from(sa_table(table))).scalar_one()
            )
            for table in inspect(engine).get_table_names()
        }


def check_books(engine: Engine) -> str:
    with engine.connect() as connection:
        unbalanced = connection.execute(
            text(
                "SELECT count(*) FROM (SELECT journal_entry_id FROM posting "
                "GROUP BY journal_entry_id, currency HAVING SUM(amount) <> 0) AS t"
            )
        ).scalar_one()
        mismatched = connection.execute(
            text(
                "SELECT count(*) FROM account a WHERE a.balance <> COALESCE("
                "(SELECT SUM(p.amount) FROM posting p WHERE p.account_id = a.id), 0) "
                "AND EXISTS (SELECT 1 FROM posting p WHERE p.account_id = a.id)"
            )
        ).scalar_one()
    if unbalanced or mismatched:
        raise ServerError(f"books: {unbalanced} unbalanced entries, {mismatched} wrong balances")
    return "books: every journal entry sums to zero, every balance is the sum of its postings"


def logon(client: TestClient, username: str, password: str) -> dict[str, str]:
    answer = client.post("/auth/logon", data={"username": username, "password": password})
    if answer.status_code != 200:
        raise ServerError(f"logon {username}: {answer.status_code} {answer.text}")
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def checking_iban(client: TestClient, headers: dict[str, str]) -> str:
    accounts = client.get("/accounts/overview", headers=headers).json()["accounts"]
    return str(next(a["iban"] for a in accounts if a["account_type"] == "checking"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1000, help="seeded customers (1000)")
    parser.add_argument("--months", type=int, default=1, help="advances of one month (1)")
    args = parser.parse_args(argv)

    scratch = Path(tempfile.mkdtemp(prefix="openbank-clock-"))
    url = f"sqlite:///{scratch / 'bench.db'}"
    started = time.perf_counter()
    seed(scratch, url, args.customers)
    print(f"seeded {args.customers} customers in {time.perf_counter() - started:.1f} s")
    os.environ.update(
        {"DATABASE_URL": url, "SECRET_KEY_FILE": str(scratch / "secret"), "LOG_LEVEL": "WARNING"}
    )
    from app.main import create_app  # after the environment names the database

    app = create_app()
    engine: Engine = app.state.engine
    with TestClient(app) as client:
        admin = logon(client, *DEMO_ADMIN)
        today = date.fromisoformat(client.get("/sandbox/clock", headers=admin).json()["now"][:10])
        started = time.perf_counter()
        customers = [seeded_username(n) for n in range(1, args.customers + 1)]
        headers = [logon(client, name, SANDBOX_PASSWORD) for name in customers]
        ibans = [checking_iban(client, h) for h in headers]
        for n, own in enumerate(headers):
            body: dict[str, Any] = {
                "from_iban": ibans[n],
                "to_iban": ibans[(n + 1) % len(ibans)],
                "amount": "1.00",
                "currency": "EUR",
                "description": "Monthly 1.00",
                "frequency": "monthly",
                "start_on": (today + timedelta(days=1)).isoformat(),
            }
            made = client.post("/standing-orders", json=body, headers=own)
            if made.status_code != 201:
                raise ServerError(f"standing order: {made.status_code} {made.text}")
        print(f"{len(headers)} standing orders made in {time.perf_counter() - started:.1f} s")

        print("| advance | ms | executed | rows written |")
        print("| --- | ---: | --- | --- |")
        for month in range(1, args.months + 1):
            before = counts(engine)
            started = time.perf_counter()
            moved = client.post("/sandbox/clock/advance", json={"days": 30}, headers=admin)
            took = (time.perf_counter() - started) * 1000
            if moved.status_code != 200:
                raise ServerError(f"advance: {moved.status_code} {moved.text}")
            after = counts(engine)
            written = {t: after[t] - before[t] for t in after if after[t] != before[t]}
            print(
                f"| month {month}: {moved.json()['from'][:10]} to {moved.json()['to'][:10]} "
                f"| {took:.0f} | {moved.json()['executed']} | {written} |"
            )
    print(check_books(engine))


if __name__ == "__main__":
    main()
