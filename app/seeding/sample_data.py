"""Deterministic sample data: the sample customers of the portfolio-analysis API and generated
customers whose year of financial life the life engine lives. `seed.py` (the command) and the
`demo` sandbox template both make it with `seed_sample_data`.

Always seeded (idempotent: existing ones are skipped): the five sample customers with their fixed
CustomerOIDs, institutions, holdings, accounts, transactions, spending and derivatives, each with
a login (john.doe, jane.smith, robert.johnson, abc.corporation, michael.chen). Faker customers
(customer00001 ...) get accounts, a persona, a few holdings with their trades and dividends and
now and then a derivative; then the life engine (`personas.live_history`, the clock's own days)
lives their 2025: income, rent, bills, subscriptions and card spending through the ledger.

The same `seed` gives the same data, byte for byte: every row comes from a generator keyed by
the seed and the customer's number (and a life's days by the seed, the customer and the date),
timestamps from a fixed clock, and the sandbox password hashes from a salt derived from the
seed. All seeded logins share one sandbox password; the demo admin and analyst get their own.

Balances of accounts at this bank come from the ledger: each gets an opening deposit (from the
bank's funding account) through `ledger.record_entries`, the one door, like everything the
engine books after it. Accounts held at other institutions are aggregated snapshots and keep
their balance as given.

The package: `reference` (institutions, currencies, FX and interest rates, the demo staff),
`sample_customers` (the five, as fixtures), `lives` (generated customers and their personas),
`rows` (the typed rows every batch insert writes) and `common` (the fixed clock and the helpers
that derive values from the seed). This module puts them together; `seed.py` is its command.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from app.core.config import Settings
from app.core.db import new_session
from app.seeding.common import SeedReport
from app.seeding.lives import seed_customers
from app.seeding.reference import ensure_reference_data, ensure_staff
from app.seeding.sample_customers import seed_document_customers


def seed_sample_data(
    engine: Engine,
    settings: Settings,
    *,
    customers: int,
    seed: int,
    rounds: int,
    progress: bool = False,
) -> tuple[SeedReport, list[tuple[str, str, str]]]:
    """Reference data, the demo staff, the sample customers and `customers` generated ones, on a
    migrated database. Returns what was made and the staff logins (role, username, password)."""
    report = SeedReport()
    with new_session(engine) as session:
        institution_ids = ensure_reference_data(session, settings)
        staff = ensure_staff(session, rounds, seed)
    seed_document_customers(engine, settings, institution_ids, report, rounds=rounds, seed=seed)
    seed_customers(
        engine,
        settings,
        institution_ids,
        report,
        count=customers,
        seed=seed,
        rounds=rounds,
        progress=progress,
    )
    return report, staff
