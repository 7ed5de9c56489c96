"""Fill the database with deterministic sample data for manual testing and demos.

    uv run python seed.py                       # 20 Faker customers, idempotent
    uv run python seed.py --customers 1000 --seed 7
    uv run python seed.py --reset               # drop everything and start again

The same `--seed` gives the same data every time. Seeded customers share one sandbox password
(hashed once, so seeding thousands stays fast); the demo admin and analyst get their own.
Opening balances are deposits through the ledger (in bulk), so every balance equals the sum of
its postings.
"""

from __future__ import annotations

import argparse
import random
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, cast

from faker import Faker
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from schwifty import IBAN
from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from app.core.config import Settings, get_settings
from app.core.db import create_db_engine, init_schema, new_session, write_transaction
from app.core.security import hash_password
from app.models.account import Account, AccountType
from app.models.customer import Customer
from app.models.user import Role, User
from app.services import institutions, ledger, reference, users

SANDBOX_PASSWORD = "sandbox-password"
DEMO_ADMIN = ("demo.admin", "demo-admin-password")
DEMO_ANALYST = ("demo.analyst", "demo-analyst-password")
FAKER_LOCALES = {"NL": "nl_NL", "BE": "nl_BE", "DE": "de_DE"}
BATCH = 500

console = Console()


@dataclass
class SeedReport:
    customers_created: int = 0
    customers_skipped: int = 0
    accounts_created: int = 0


def seeded_username(index: int) -> str:
    return f"customer{index:05d}"


def reset_database(engine: Engine) -> None:
    import app.models  # noqa: F401  (registers every table)

    SQLModel.metadata.drop_all(engine)


def ensure_reference_data(session: Session, settings: Settings) -> None:
    reference.ensure_defaults(
        session=session,
        countries=settings.default_countries,
        currencies=settings.default_currencies,
    )
    with write_transaction(session):
        institutions.ensure_own_bank(session=session, settings=settings)


def ensure_staff(session: Session, rounds: int) -> list[tuple[str, str, str]]:
    rows = []
    for (username, password), role in ((DEMO_ADMIN, Role.admin), (DEMO_ANALYST, Role.analyst)):
        if users.get_by_username(session=session, username=username) is None:
            users.create_user(
                session=session,
                username=username,
                password=password,
                role=role,
                bcrypt_rounds=rounds,
            )
        rows.append((role.value, username, password))
    session.commit()
    return rows


def _iban(rng: random.Random, settings: Settings, taken: set[str]) -> str:
    while True:
        code = f"{rng.randrange(10**10):010d}"
        iban = str(
            IBAN.generate(settings.bank_country, bank_code=settings.bank_code, account_code=code)
        )
        if iban not in taken:
            taken.add(iban)
            return iban


def _balance(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randrange(low * 100, high * 100)).scaleb(-2)


def seed_customers(
    engine: Engine, settings: Settings, *, count: int, seed: int, rounds: int
) -> SeedReport:
    """Create `count` Faker customers (customer00001 ...), each with accounts and balances."""
    report = SeedReport()
    fakers = {country: Faker(locale) for country, locale in FAKER_LOCALES.items()}
    password_hash = hash_password(SANDBOX_PASSWORD, rounds)
    today = date(2026, 1, 1)  # fixed, so the same seed gives the same ages

    with new_session(engine) as session:
        bank_id = institutions.get_own_bank(session=session).id
        existing = set(session.exec(select(User.username)).all())
        taken_ibans = {iban for iban in session.exec(select(col(Account.iban))).all() if iban}
        currencies = [c.code for c in reference.list_currencies(session=session)]
        session.commit()

    customers: list[dict[str, Any]] = []
    logins: list[dict[str, Any]] = []
    accounts: list[dict[str, Any]] = []
    opening: list[Decimal] = []  # per account, deposited through the ledger
    with Progress(console=console, transient=False) as progress:
        task = progress.add_task("Seeding customers", total=count)
        for index in range(1, count + 1):
            username = seeded_username(index)
            if username in existing:
                report.customers_skipped += 1
                progress.advance(task)
                continue
            # One generator per customer: customer N is the same whatever else exists or runs.
            rng = random.Random(f"{seed}:{index}")
            country = rng.choice(list(FAKER_LOCALES))
            faker = fakers[country]
            faker.seed_instance(rng.getrandbits(64))
            customer_id = uuid.UUID(int=rng.getrandbits(128), version=4)
            name = faker.name()
            born = today - timedelta(days=rng.randrange(18 * 366, 85 * 365))
            address = faker.address().replace("\n", ", ")[:200]
            document = f"{country}{rng.randrange(10**7, 10**8)}"
            types = [AccountType.checking] + [
                t for t in (AccountType.saving, AccountType.investment) if rng.random() < 0.5
            ]
            planned = [
                (t, "EUR" if t == AccountType.checking else rng.choice(currencies)) for t in types
            ]
            balances = [_balance(rng, 0, 25_000) for _ in planned]
            customers.append(
                {
                    "id": customer_id,
                    "name": name,
                    "date_of_birth": born,
                    "address": address,
                    "country": country,
                    "id_document": document,
                }
            )
            logins.append(
                {
                    "username": username,
                    "password_hash": password_hash,
                    "role": Role.customer,
                    "customer_id": customer_id,
                }
            )
            for (account_type, currency), balance in zip(planned, balances, strict=True):
                accounts.append(
                    {
                        "customer_id": customer_id,
                        "institution_id": bank_id,
                        "account_type": account_type,
                        "currency": currency,
                        "iban": _iban(rng, settings, taken_ibans),
                    }
                )
                opening.append(balance)
            report.customers_created += 1
            report.accounts_created += len(planned)
            if len(customers) >= BATCH or index == count:
                _flush(engine, customers, logins, accounts, opening)
            progress.advance(task)
    _flush(engine, customers, logins, accounts, opening)
    return report


def _flush(
    engine: Engine,
    customers: list[dict[str, Any]],
    logins: list[dict[str, Any]],
    accounts: list[dict[str, Any]],
    opening: list[Decimal],
) -> None:
    if not customers:
        return
    with new_session(engine) as session, write_transaction(session):
        session.execute(insert(Customer), customers)
        session.execute(insert(User), logins)
        account_ids = cast(
            "list[int]",
            session.scalars(
                insert(Account).returning(col(Account.id), sort_by_parameter_order=True), accounts
            ).all(),
        )
        # Balances only ever come from the ledger: one opening deposit per account.
        ledger.bulk_open_balances(
            session=session, items=list(zip(account_ids, opening, strict=True))
        )
    customers.clear()
    logins.clear()
    accounts.clear()
    opening.clear()


def print_credentials(staff: list[tuple[str, str, str]], report: SeedReport) -> None:
    table = Table(title="Demo credentials (sandbox only)")
    table.add_column("role")
    table.add_column("username")
    table.add_column("password")
    for role, username, password in staff:
        table.add_row(role, username, password)
    if report.customers_created or report.customers_skipped:
        table.add_row("customer", f"{seeded_username(1)} ...", SANDBOX_PASSWORD)
    console.print(table)
    console.print(
        f"customers created: {report.customers_created}, already there: "
        f"{report.customers_skipped}, accounts created: {report.accounts_created}"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=20, help="Faker customers (default 20)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument("--reset", action="store_true", help="drop and recreate every table first")
    parser.add_argument(
        "--bcrypt-rounds",
        type=int,
        default=None,
        help="cost for the seeded hashes (default: the BCRYPT_ROUNDS setting)",
    )
    args = parser.parse_args(argv)
    if args.customers < 0:
        parser.error("--customers must be zero or more")
    return args


def main(argv: list[str] | None = None, settings: Settings | None = None) -> SeedReport:
    args = parse_args(argv)
    settings = settings or get_settings()
    rounds = args.bcrypt_rounds or settings.bcrypt_rounds
    engine = create_db_engine(settings)
    try:
        if args.reset:
            console.print("[yellow]--reset: dropping every table[/yellow]")
            reset_database(engine)
        init_schema(engine)
        with new_session(engine) as session:
            ensure_reference_data(session, settings)
            staff = ensure_staff(session, rounds)
        report = seed_customers(
            engine, settings, count=args.customers, seed=args.seed, rounds=rounds
        )
        print_credentials(staff, report)
        return report
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
