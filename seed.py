"""Fill the database (or a sandbox) with deterministic sample data for manual testing and demos.

    uv run python seed.py                       # the 5 sample customers + 20 Faker customers
    uv run python seed.py --customers 10000     # 10,000 lives of a year, through the ledger
    uv run python seed.py --customers 1000 --seed 7
    uv run python seed.py --reset               # drop everything and start again
    uv run python seed.py --sandbox sbx_...     # fill a sandbox instead of the default bank

With ENVIRONMENT=production it refuses to run (the demo logins' passwords are published) unless
given --allow-production.

Always seeded (idempotent: existing ones are skipped): the five sample customers of the
portfolio-analysis API (compatible with the Dummy Bank API) with their fixed CustomerOIDs,
institutions, holdings, accounts, transactions, spending and derivatives, each with a login
(john.doe, jane.smith, robert.johnson, abc.corporation, michael.chen). Faker customers
(customer00001 ...) get a persona whose year (2025) the life engine lives through the ledger:
income, rent, bills, subscriptions and card spending (the spending table is the sum of the
posted card payments), plus a few holdings bought during the year, dividends and now and then
a derivative.

The same `--seed` gives the same data, byte for byte. All seeded logins share one sandbox
password; the demo admin and analyst get their own.
"""

from __future__ import annotations

import argparse

from rich.table import Table
from sqlalchemy.engine import Engine

from app.core.config import Settings, get_settings
from app.core.db import create_db_engine
from app.core.migrations import drop_everything, upgrade_to_head
from app.seeding.common import (
    DEMO_ADMIN,
    DEMO_ANALYST,
    SANDBOX_PASSWORD,
    SeedReport,
    console,
    seeded_username,
)
from app.seeding.sample_customers import DOCUMENT_CUSTOMERS
from app.seeding.sample_data import seed_sample_data
from app.services import sandboxes

__all__ = [
    "DEMO_ADMIN",
    "DEMO_ANALYST",
    "DOCUMENT_CUSTOMERS",
    "SANDBOX_PASSWORD",
    "SeedReport",
    "main",
]


def print_credentials(
    staff: list[tuple[str, str, str]], report: SeedReport, *, sandbox: str | None = None
) -> None:
    table = Table(title="Demo credentials (sandbox only)")
    table.add_column("role")
    table.add_column("username")
    table.add_column("password")
    if sandbox is None:
        for role, username, password in staff:
            table.add_row(role, username, password)
        table.add_row(
            "customer", ", ".join(d.username for d in DOCUMENT_CUSTOMERS), SANDBOX_PASSWORD
        )
        if report.customers_created or report.customers_skipped:
            table.add_row("customer", f"{seeded_username(1)} ...", SANDBOX_PASSWORD)
    else:
        # A sandbox's staff, and the customers it was made with, keep the passwords shown when
        # it was created; only the customers made by this run have the published one.
        for role, username, _ in staff:
            table.add_row(role, username, f"as shown when {sandbox} was created")
        if report.document_customers_created or report.customers_created:
            table.add_row("customer", "those created now (see below)", SANDBOX_PASSWORD)
        if report.document_customers_skipped or report.customers_skipped:
            table.add_row("customer", "those already there", "unchanged")
    console.print(table)
    console.print(
        f"sample customers created: {report.document_customers_created}, already there: "
        f"{report.document_customers_skipped}\n"
        f"customers created: {report.customers_created}, already there: "
        f"{report.customers_skipped}, accounts created: {report.accounts_created}\n"
        f"transactions: {report.transactions_created}, holdings: {report.holdings_created}, "
        f"spending rows: {report.spending_rows_created}, derivatives: "
        f"{report.derivatives_created}"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=20, help="Faker customers (default 20)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument(
        "--reset", action="store_true", help="drop every table, then migrate the empty database"
    )
    parser.add_argument(
        "--allow-production",
        action="store_true",
        help="seed even when ENVIRONMENT=production (the demo logins it creates have the\n"
        "published passwords below: never on a database others can reach)",
    )
    parser.add_argument(
        "--bcrypt-rounds",
        type=int,
        default=None,
        help="cost for the seeded hashes (default: the BCRYPT_ROUNDS setting)",
    )
    parser.add_argument(
        "--sandbox",
        metavar="SANDBOX_ID",
        help="fill this sandbox (sbx_..., from POST /sandboxes) instead of the default bank",
    )
    args = parser.parse_args(argv)
    if args.customers < 0:
        parser.error("--customers must be zero or more")
    if args.sandbox and args.reset:
        parser.error(
            "--reset resets the default bank; reset a sandbox with POST /sandboxes/{id}/reset"
        )
    return args


def main(argv: list[str] | None = None, settings: Settings | None = None) -> SeedReport:
    args = parse_args(argv)
    settings = settings or get_settings()
    if settings.environment == "production" and not args.allow_production:
        # Before anything touches the database: its demo staff have published passwords.
        raise SystemExit(
            "seed.py refuses to run with ENVIRONMENT=production: it creates demo logins "
            "(an admin among them) whose passwords are published. Pass --allow-production "
            "if this database really is a sandbox."
        )
    rounds = args.bcrypt_rounds or settings.bcrypt_rounds
    engine = create_db_engine(settings)
    try:
        if args.sandbox:
            upgrade_to_head(engine)
            target = sandboxes.open_for_script(
                settings=settings, registry=engine, sandbox_id=args.sandbox
            )
            console.print(f"filling sandbox {args.sandbox}")
            try:
                return _seed(target, settings, args, rounds, sandbox=args.sandbox)
            finally:
                target.dispose()
        if args.reset:
            console.print("[yellow]--reset: dropping every table[/yellow]")
            drop_everything(engine)
        upgrade_to_head(engine)
        return _seed(engine, settings, args, rounds)
    finally:
        engine.dispose()


def _seed(
    engine: Engine,
    settings: Settings,
    args: argparse.Namespace,
    rounds: int,
    *,
    sandbox: str | None = None,
) -> SeedReport:
    report, staff = seed_sample_data(
        engine, settings, customers=args.customers, seed=args.seed, rounds=rounds, progress=True
    )
    print_credentials(staff, report, sandbox=sandbox)
    return report


if __name__ == "__main__":
    main()
