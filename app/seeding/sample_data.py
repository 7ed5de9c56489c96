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
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import bcrypt
from faker import Faker
from rich.console import Console
from rich.progress import Progress
from schwifty import IBAN
from sqlalchemy import func, insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.core.config import Settings
from app.core.db import insert_rows, new_session, table_of, write_transaction
from app.models.account import Account, AccountType
from app.models.asset import Asset, AssetType
from app.models.currency import Currency
from app.models.customer import Customer
from app.models.derivative_transaction import (
    DerivativeSide,
    DerivativeStatus,
    DerivativeTransaction,
    DerivativeType,
)
from app.models.fx_rate import FxRate
from app.models.institution import Institution, InstitutionType
from app.models.journal_entry import EntryKind
from app.models.persona import Persona, PersonaKind
from app.models.portfolio_transaction import PortfolioTransaction, TransactionType
from app.models.spending import Spending
from app.models.user import Role, User
from app.services import fx, institutions, interest, ledger, personas, reference, users

SANDBOX_PASSWORD = "sandbox-password"
DEMO_ADMIN = ("demo.admin", "demo-admin-password")
DEMO_ANALYST = ("demo.analyst", "demo-analyst-password")
FAKER_LOCALES = {"NL": "nl_NL", "BE": "nl_BE", "DE": "de_DE"}
SEED_CURRENCIES = ("EUR", "USD", "GBP")
BATCH = 500  # customers per bulk insert (about 55,000 transaction rows)

# A fixed clock, so the same seed gives the same bytes: "now" for the seeded data is New Year
# 2026, the Faker customers' history is calendar year 2025.
SEED_NOW = datetime(2026, 1, 1, tzinfo=UTC)
TODAY = SEED_NOW.date()
HISTORY_YEAR = 2025
VALUED_AT = datetime(2025, 12, 31, 22, 0, tzinfo=UTC)

CENT = Decimal("0.01")
SPENDING_TYPES = frozenset({TransactionType.card, TransactionType.payment})

console = Console()


@dataclass
class SeedReport:
    customers_created: int = 0
    customers_skipped: int = 0
    accounts_created: int = 0
    document_customers_created: int = 0
    document_customers_skipped: int = 0
    transactions_created: int = 0
    holdings_created: int = 0
    spending_rows_created: int = 0
    derivatives_created: int = 0


# --- small helpers ------------------------------------------------------------------------------


def seeded_username(index: int) -> str:
    return f"customer{index:05d}"


def money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


_BCRYPT_ALPHABET = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def seeded_password_hash(password: str, rounds: int, key: str) -> str:
    """bcrypt with a salt derived from `key`, so a re-seed writes the same hash.

    Sandbox logins only: a real password always gets a random salt (app.core.security).
    """
    rng = random.Random(f"salt:{key}")
    # 22 characters of bcrypt's base64; the last one carries only 2 bits, so pick one with the
    # unused bits clear.
    salt = "".join(rng.choice(_BCRYPT_ALPHABET) for _ in range(21)) + rng.choice(".Oeu")
    return bcrypt.hashpw(password.encode(), f"$2b${rounds:02d}${salt}".encode()).decode()


def seeded_uid(key: str) -> uuid.UUID:
    """A login's uid derived from `key` (the seed and the username), so a re-seed writes the
    same rows. Tokens of a reset database still die with its sessions."""
    return uuid.UUID(int=random.Random(f"uid:{key}").getrandbits(128), version=4)


def _insert_accounts(
    session: Session,
    rows: list[dict[str, Any]],
    own_bank_id: int,
    opened_at: datetime,
    *,
    mirrored: bool,
) -> list[int]:
    """Insert account rows and return their ids in order. Accounts at this bank are inserted
    empty and funded through the ledger (one opening deposit each, in one batch), so that their
    balance is the sum of their postings; aggregated accounts keep the balance they were given.
    `mirrored`: whether the openings appear in the customers' portfolio histories."""
    openings: list[Decimal] = []
    for row in rows:
        ours = row["institution_id"] == own_bank_id
        openings.append(row["balance"] if ours else Decimal(0))
        if ours:
            row["balance"] = Decimal(0)
    ids = insert_rows(session, table_of(Account), rows, numbered=True)
    funded = [(row["iban"], amount) for row, amount in zip(rows, openings, strict=True) if amount]
    locked = ledger.lock_accounts(session=session, ibans=[iban for iban, _ in funded])
    funds = {
        currency: ledger.funding_account(session=session, currency=currency, now=opened_at)
        for currency in sorted({locked[iban].account.currency for iban, _ in funded})
    }
    entries = []
    for iban, amount in funded:
        holder = locked[iban]
        fund = funds[holder.account.currency]
        legs = ledger.funding_legs(holder, fund, amount, outside=fund.name)
        entries.append(
            ledger.Entry(
                EntryKind.deposit, "Opening balance", legs, at=opened_at, mirrored=mirrored
            )
        )
    ledger.record_entries(session=session, entries=entries)
    return ids


def _stamp(rng: random.Random, day: date) -> datetime:
    return datetime.combine(day, time(rng.randrange(7, 22), rng.randrange(60)), UTC)


def _iban(rng: random.Random, settings: Settings, taken: set[str]) -> str:
    while True:
        code = f"{rng.randrange(10**10):010d}"
        iban = str(
            IBAN.generate(settings.bank_country, bank_code=settings.bank_code, account_code=code)
        )
        if iban not in taken:
            taken.add(iban)
            return iban


def spending_rows(
    customer_id: uuid.UUID, transactions: Iterable[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The spending table of a customer: card and payment debits summed by month and category."""
    totals: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for row in transactions:
        if row["transaction_type"] in SPENDING_TYPES and row["amount"] < 0 and row["category"]:
            month = row["occurred_at"].strftime("%Y-%m")
            totals[(month, row["category"], row["currency"])] -= row["amount"]
    return [
        {
            "customer_id": customer_id,
            "month": month,
            "category": category,
            "currency": currency,
            "amount": amount,
        }
        for (month, category, currency), amount in sorted(totals.items())
    ]


# --- reference data, staff ----------------------------------------------------------------------


@dataclass(frozen=True)
class InstitutionSeed:
    name: str
    institution_type: InstitutionType
    bic: str | None = None
    routing_number: str | None = None
    country: str | None = None


FIRST_NATIONAL = "First National Bank"
BROKER = "Global Investment Brokers"
EXCHANGE = "Crypto Exchange Pro"
EURO_SAVINGS = "Euro Savings Bank"
THAMES = "Thames Street Bank"
INSTITUTIONS = (
    InstitutionSeed(FIRST_NATIONAL, InstitutionType.bank, routing_number="123456789", country="US"),
    InstitutionSeed(BROKER, InstitutionType.broker, routing_number="987654321", country="US"),
    InstitutionSeed(EXCHANGE, InstitutionType.exchange),
    InstitutionSeed(EURO_SAVINGS, InstitutionType.bank, bic="EUSBDEFF", country="DE"),
    InstitutionSeed(THAMES, InstitutionType.bank, bic="THSBGB2L", country="GB"),
)


def ensure_reference_data(session: Session, settings: Settings) -> dict[str, int]:
    """Countries, currencies, FX rates and institutions; returns institution ids by name."""
    reference.ensure_defaults(
        session=session,
        countries=settings.default_countries,
        currencies=settings.default_currencies,
    )
    with write_transaction(session):
        for code in SEED_CURRENCIES:  # the seeded rows use these, whatever the settings say
            if session.get(Currency, code) is None:
                session.add(Currency(code=code, name=reference.iso_currency(code)[1]))
    fx.ensure_defaults(session=session, rates=settings.default_fx_rates, now=SEED_NOW)
    interest.ensure_defaults(session=session, rates=settings.default_interest_rates, now=SEED_NOW)
    with write_transaction(session):
        for pair, rate in settings.default_fx_rates.items():
            base, _, quote = pair.partition("/")
            if {base, quote} <= set(SEED_CURRENCIES) and session.get(FxRate, (base, quote)) is None:
                session.add(
                    FxRate(base_currency=base, quote_currency=quote, rate=rate, updated_at=SEED_NOW)
                )
        institutions.ensure_own_bank(session=session, settings=settings)
        ids: dict[str, int] = {}
        for seed in INSTITUTIONS:
            row = session.exec(select(Institution).where(Institution.name == seed.name)).first()
            if row is None:
                row = Institution(
                    name=seed.name,
                    institution_type=seed.institution_type,
                    bic=seed.bic,
                    routing_number=seed.routing_number,
                    country=seed.country,
                )
                session.add(row)
                session.flush()
            assert row.id is not None
            ids[seed.name] = row.id
    return ids


def ensure_staff(session: Session, rounds: int, seed: int) -> list[tuple[str, str, str]]:
    rows = []
    for (username, password), role in ((DEMO_ADMIN, Role.admin), (DEMO_ANALYST, Role.analyst)):
        if users.get_by_username(session=session, username=username) is None:
            with write_transaction(session):
                user = users.add_user(
                    session=session,
                    username=username,
                    password_hash=seeded_password_hash(password, rounds, f"{seed}:{username}"),
                    role=role,
                    uid=seeded_uid(f"{seed}:{username}"),
                )
                user.created_at = SEED_NOW
        rows.append((role.value, username, password))
    session.commit()
    return rows


# --- the portfolio-analysis API's sample customers -----------------------------------------------


@dataclass(frozen=True)
class DocAccount:
    key: str
    institution: str | None  # None: an account at this bank, with an IBAN
    account_type: AccountType
    currency: str
    balance: str
    number: str | None = None


@dataclass(frozen=True)
class DocHolding:
    asset_type: AssetType
    symbol: str
    name: str
    quantity: str
    value: str
    currency: str


@dataclass(frozen=True)
class DocTransaction:
    when: str  # "YYYY-MM-DD HH:MM", UTC
    kind: TransactionType
    amount: str
    currency: str
    category: str | None
    counterparty: str | None = None
    account: str | None = None
    symbol: str | None = None
    quantity: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class DocDerivative:
    derivative_type: DerivativeType
    side: DerivativeSide
    symbol: str
    quantity: str
    strike: str | None
    premium: str | None
    currency: str
    executed: str
    expires: str
    strategy: str
    status: DerivativeStatus
    counterparty: str


@dataclass(frozen=True)
class DocCustomer:
    oid: str
    name: str
    username: str
    accounts: tuple[DocAccount, ...]
    holdings: tuple[DocHolding, ...]
    transactions: tuple[DocTransaction, ...]
    derivatives: tuple[DocDerivative, ...] = ()


T = TransactionType
A = AssetType
CHECKING, SAVING, INVESTMENT = AccountType.checking, AccountType.saving, AccountType.investment
CALL, PUT, FUTURE, FORWARD = (
    DerivativeType.call,
    DerivativeType.put,
    DerivativeType.future,
    DerivativeType.forward,
)
BUY, SELL = DerivativeSide.buy, DerivativeSide.sell
OPEN = DerivativeStatus.open

DOCUMENT_CUSTOMERS: tuple[DocCustomer, ...] = (
    DocCustomer(
        oid="550e8400-e29b-41d4-a716-446655440001",
        name="John Doe",
        username="john.doe",
        accounts=(
            DocAccount("fnb", FIRST_NATIONAL, CHECKING, "USD", "50000.00", "ACC-001"),
            DocAccount("ours", None, SAVING, "EUR", "25000.00"),
        ),
        holdings=(
            DocHolding(A.stock, "AAPL", "Apple Inc.", "100", "15000.00", "USD"),
            DocHolding(A.stock, "GOOGL", "Alphabet Inc.", "50", "7000.00", "USD"),
            DocHolding(A.bond, "US10Y", "US Treasury Note 10Y", "10000", "9850.00", "USD"),
            DocHolding(A.crypto, "BTC", "Bitcoin", "2.5", "107500.00", "USD"),
            DocHolding(A.etf, "SPY", "SPDR S&P 500 ETF", "200", "90000.00", "USD"),
        ),
        transactions=(
            DocTransaction("2025-11-01 09:00", T.salary, "8500.00", "USD", "income", "Acme Corp", "fnb"),
            DocTransaction("2025-11-02 08:15", T.payment, "-500.00", "USD", "utilities", "City Power & Water", "fnb"),
            DocTransaction("2025-11-03 17:40", T.card, "-450.00", "USD", "groceries", "Whole Foods Market", "fnb"),
            DocTransaction("2025-11-08 20:05", T.card, "-400.00", "USD", "dining", "The Capital Grille", "fnb"),
            DocTransaction("2025-11-12 07:55", T.card, "-300.00", "USD", "transportation", "Shell", "fnb"),
            DocTransaction("2025-11-15 11:20", T.card, "-350.00", "USD", "groceries", "Trader Joe's", "fnb"),
            DocTransaction("2025-11-20 19:30", T.card, "-500.00", "USD", "entertainment", "Ticketmaster", "fnb"),
            DocTransaction("2025-11-25 15:45", T.buy, "-1890.00", "USD", "investment", BROKER, symbol="AAPL", quantity="10"),
            DocTransaction("2025-11-28 10:00", T.dividend, "24.00", "USD", "income", BROKER, symbol="AAPL"),
            DocTransaction("2025-12-01 06:00", T.deposit, "1000.00", "EUR", "savings", "Standing order", "ours"),
        ),
        derivatives=(
            DocDerivative(CALL, SELL, "AAPL", "1", "180.00", "350.00", "USD", "2025-11-05", "2026-01-16", "covered_call", OPEN, BROKER),
            DocDerivative(PUT, BUY, "SPY", "2", "420.00", "1200.00", "USD", "2025-11-05", "2026-03-20", "protective_put", OPEN, BROKER),
        ),
    ),
    DocCustomer(
        oid="550e8400-e29b-41d4-a716-446655440002",
        name="Jane Smith",
        username="jane.smith",
        accounts=(
            DocAccount("tsb", THAMES, CHECKING, "GBP", "12450.00", "TSB-20417"),
            DocAccount("ours", None, SAVING, "EUR", "40000.00"),
        ),
        holdings=(
            DocHolding(A.etf, "BND", "Vanguard Total Bond Market ETF", "300", "22050.00", "USD"),
            DocHolding(A.etf, "VWRL", "Vanguard FTSE All-World", "150", "16500.00", "EUR"),
            DocHolding(A.bond, "GB10Y", "UK Gilt 10Y", "20000", "19200.00", "GBP"),
            DocHolding(A.stock, "MSFT", "Microsoft Corp.", "40", "16800.00", "USD"),
        ),
        transactions=(
            DocTransaction("2025-09-15 10:00", T.dividend, "58.20", "USD", "income", BROKER, symbol="BND"),
            DocTransaction("2025-11-01 07:00", T.payment, "-1650.00", "GBP", "rent", "Camden Lettings", "tsb"),
            DocTransaction("2025-11-04 09:10", T.payment, "-180.00", "GBP", "utilities", "British Gas", "tsb"),
            DocTransaction("2025-11-06 18:25", T.card, "-96.40", "GBP", "groceries", "Tesco", "tsb"),
            DocTransaction("2025-11-10 14:00", T.buy, "-2150.00", "EUR", "investment", BROKER, symbol="VWRL", quantity="20"),
            DocTransaction("2025-11-13 17:50", T.card, "-88.15", "GBP", "groceries", "Sainsbury's", "tsb"),
            DocTransaction("2025-11-16 20:15", T.card, "-64.00", "GBP", "dining", "Dishoom", "tsb"),
            DocTransaction("2025-11-21 08:30", T.card, "-42.50", "GBP", "transportation", "Transport for London", "tsb"),
            DocTransaction("2025-11-22 12:05", T.card, "-120.00", "GBP", "health", "Boots", "tsb"),
            DocTransaction("2025-11-28 09:00", T.salary, "5200.00", "GBP", "income", "Northwind Consulting", "tsb"),
            DocTransaction("2025-12-01 06:00", T.deposit, "500.00", "EUR", "savings", "Standing order", "ours"),
            DocTransaction("2025-12-15 00:05", T.interest, "35.00", "EUR", "interest", "OpenBank", "ours"),
        ),
    ),
    DocCustomer(
        oid="550e8400-e29b-41d4-a716-446655440003",
        name="Robert Johnson",
        username="robert.johnson",
        accounts=(
            DocAccount("fnb", FIRST_NATIONAL, CHECKING, "USD", "8200.00", "ACC-002"),
            DocAccount("gib", BROKER, INVESTMENT, "USD", "65000.00", "GIB-40021"),
        ),
        holdings=(
            DocHolding(A.stock, "TSLA", "Tesla Inc.", "75", "18000.00", "USD"),
            DocHolding(A.stock, "NVDA", "NVIDIA Corp.", "120", "57600.00", "USD"),
            DocHolding(A.stock, "AMD", "Advanced Micro Devices", "200", "28000.00", "USD"),
            DocHolding(A.crypto, "ETH", "Ether", "15", "33000.00", "USD"),
        ),
        transactions=(
            DocTransaction("2025-10-01 09:00", T.salary, "6800.00", "USD", "income", "Stark Logistics", "fnb"),
            DocTransaction("2025-10-02 10:00", T.transfer, "-3000.00", "USD", "investment", BROKER, "fnb", description="To brokerage"),
            DocTransaction("2025-10-02 10:01", T.deposit, "3000.00", "USD", "investment", FIRST_NATIONAL, "gib", description="From checking"),
            DocTransaction("2025-10-03 08:00", T.payment, "-2100.00", "USD", "rent", "Parkside Apartments", "fnb"),
            DocTransaction("2025-10-03 15:31", T.buy, "-5750.00", "USD", "investment", BROKER, "gib", "TSLA", "25"),
            DocTransaction("2025-10-05 16:45", T.card, "-210.35", "USD", "groceries", "Costco", "fnb"),
            DocTransaction("2025-10-09 14:02", T.sell, "7250.00", "USD", "investment", BROKER, "gib", "AMD", "50"),
            DocTransaction("2025-10-11 21:10", T.card, "-145.00", "USD", "dining", "Nobu", "fnb"),
            DocTransaction("2025-10-14 15:55", T.buy, "-8900.00", "USD", "investment", BROKER, "gib", "NVDA", "20"),
            DocTransaction("2025-10-17 22:30", T.card, "-89.99", "USD", "entertainment", "Steam", "fnb"),
            DocTransaction("2025-10-20 03:12", T.buy, "-10750.00", "USD", "investment", EXCHANGE, symbol="ETH", quantity="5"),
            DocTransaction("2025-10-28 00:00", T.fee, "-9.99", "USD", "fees", BROKER, "gib"),
        ),
        derivatives=(
            DocDerivative(CALL, BUY, "TSLA", "5", "260.00", "4250.00", "USD", "2025-10-06", "2026-01-16", "long_call", OPEN, BROKER),
            DocDerivative(PUT, SELL, "NVDA", "2", "420.00", "3100.00", "USD", "2025-09-15", "2025-12-19", "cash_secured_put", DerivativeStatus.expired, BROKER),
            DocDerivative(CALL, SELL, "AMD", "1", "160.00", "520.00", "USD", "2025-08-01", "2025-11-21", "covered_call", DerivativeStatus.exercised, BROKER),
        ),
    ),
    DocCustomer(
        oid="550e8400-e29b-41d4-a716-446655440004",
        name="ABC Corporation",
        username="abc.corporation",
        accounts=(
            DocAccount("fnb", FIRST_NATIONAL, CHECKING, "USD", "1250000.00", "ACC-CORP-01"),
            DocAccount("ours", None, SAVING, "EUR", "500000.00"),
            DocAccount("tsb", THAMES, INVESTMENT, "GBP", "200000.00", "TSB-CORP-7"),
        ),
        holdings=(
            DocHolding(A.bond, "US3M", "US Treasury Bill 3M", "500000", "494250.00", "USD"),
            DocHolding(A.fund, "VMFXX", "Vanguard Federal Money Market", "250000", "250000.00", "USD"),
            DocHolding(A.bond, "DE10Y", "German Bund 10Y", "100000", "97400.00", "EUR"),
        ),
        transactions=(
            DocTransaction("2025-12-01 09:00", T.deposit, "185000.00", "USD", "income", "Contoso Ltd", "fnb", description="Invoice 2025-118"),
            DocTransaction("2025-12-01 10:00", T.payment, "-18500.00", "USD", "rent", "Metro Office Park", "fnb"),
            DocTransaction("2025-12-03 09:00", T.deposit, "92500.00", "USD", "income", "Fabrikam Inc", "fnb", description="Invoice 2025-121"),
            DocTransaction("2025-12-05 02:00", T.card, "-4820.00", "USD", "software", "Amazon Web Services", "fnb"),
            DocTransaction("2025-12-07 02:00", T.card, "-1250.00", "USD", "software", "Atlassian", "fnb"),
            DocTransaction("2025-12-09 13:20", T.card, "-3640.75", "USD", "travel", "Delta Air Lines", "fnb"),
            DocTransaction("2025-12-10 22:45", T.card, "-1180.40", "USD", "travel", "Marriott", "fnb"),
            DocTransaction("2025-12-12 08:00", T.payment, "-2150.00", "USD", "utilities", "ConEdison", "fnb"),
            DocTransaction("2025-12-15 06:00", T.payment, "-142300.00", "USD", "payroll", "Gusto Payroll", "fnb"),
            DocTransaction("2025-12-18 14:30", T.buy, "-98850.00", "USD", "investment", BROKER, "fnb", "US3M", "100000"),
            DocTransaction("2025-12-20 00:05", T.interest, "1850.00", "EUR", "interest", "OpenBank", "ours"),
        ),
        derivatives=(
            DocDerivative(FORWARD, SELL, "EURUSD", "500000", "1.0950", None, "USD", "2025-10-01", "2026-03-31", "fx_hedge", OPEN, FIRST_NATIONAL),
            DocDerivative(FUTURE, SELL, "ES", "4", "5850.00", None, "USD", "2025-11-15", "2026-03-20", "portfolio_hedge", OPEN, BROKER),
        ),
    ),
    DocCustomer(
        oid="550e8400-e29b-41d4-a716-446655440005",
        name="Michael Chen",
        username="michael.chen",
        accounts=(
            DocAccount("ours", None, CHECKING, "EUR", "6800.00"),
            DocAccount("cxp", EXCHANGE, INVESTMENT, "USD", "22000.00", "CXP-77120"),
        ),
        holdings=(
            DocHolding(A.crypto, "BTC", "Bitcoin", "1.2", "51600.00", "USD"),
            DocHolding(A.crypto, "ETH", "Ether", "20", "44000.00", "USD"),
            DocHolding(A.crypto, "SOL", "Solana", "500", "50000.00", "USD"),
            DocHolding(A.stock, "NVDA", "NVIDIA Corp.", "80", "38400.00", "USD"),
            DocHolding(A.etf, "QQQ", "Invesco QQQ Trust", "100", "39000.00", "USD"),
        ),
        transactions=(
            DocTransaction("2025-12-01 07:00", T.payment, "-1450.00", "EUR", "rent", "Vesteda", "ours"),
            DocTransaction("2025-12-02 09:00", T.transfer, "-2000.00", "EUR", "investment", EXCHANGE, "ours", description="Top-up"),
            DocTransaction("2025-12-02 09:05", T.deposit, "2160.00", "USD", "investment", "OpenBank", "cxp", description="Top-up, converted"),
            DocTransaction("2025-12-03 18:10", T.card, "-62.30", "EUR", "groceries", "Albert Heijn", "ours"),
            DocTransaction("2025-12-04 11:11", T.buy, "-9800.00", "USD", "investment", EXCHANGE, "cxp", "SOL", "100"),
            DocTransaction("2025-12-09 19:00", T.card, "-48.90", "EUR", "groceries", "Jumbo", "ours"),
            DocTransaction("2025-12-11 02:22", T.buy, "-8520.00", "USD", "investment", EXCHANGE, "cxp", "BTC", "0.2"),
            DocTransaction("2025-12-12 20:30", T.card, "-35.00", "EUR", "dining", "Ramen-ya", "ours"),
            DocTransaction("2025-12-14 15:00", T.card, "-129.00", "EUR", "shopping", "Coolblue", "ours"),
            DocTransaction("2025-12-19 23:40", T.sell, "4480.00", "USD", "investment", EXCHANGE, "cxp", "ETH", "2"),
            DocTransaction("2025-12-20 00:00", T.fee, "-12.50", "USD", "fees", EXCHANGE, "cxp"),
            DocTransaction("2025-12-25 09:00", T.salary, "7400.00", "EUR", "income", "Adyen", "ours"),
        ),
        derivatives=(
            DocDerivative(FUTURE, BUY, "BTC", "1", "45000.00", None, "USD", "2025-11-20", "2026-03-27", "leveraged_long", OPEN, EXCHANGE),
            DocDerivative(CALL, BUY, "ETH", "10", "2500.00", "1850.00", "USD", "2025-12-05", "2026-06-26", "long_call", OPEN, EXCHANGE),
        ),
    ),
)  # fmt: skip


def _document_rows(
    doc: DocCustomer,
    institution_ids: dict[str, int],
    own_bank_id: int,
    settings: Settings,
    taken_ibans: set[str],
) -> tuple[dict[str, Any], list[dict[str, Any]], list[str]]:
    customer_id = uuid.UUID(doc.oid)
    rng = random.Random(f"document:{doc.oid}")
    customer = {"id": customer_id, "name": doc.name, "created_at": SEED_NOW}
    accounts = []
    for account in doc.accounts:
        ours = account.institution is None
        accounts.append(
            {
                "customer_id": customer_id,
                "institution_id": own_bank_id
                if ours
                else institution_ids[str(account.institution)],
                "account_type": account.account_type,
                "currency": account.currency,
                "iban": _iban(rng, settings, taken_ibans) if ours else None,
                "account_number": account.number,
                "balance": Decimal(account.balance),
                "created_at": SEED_NOW,
            }
        )
    return customer, accounts, [a.key for a in doc.accounts]


def seed_document_customers(
    engine: Engine,
    settings: Settings,
    institution_ids: dict[str, int],
    report: SeedReport,
    *,
    rounds: int,
    seed: int,
) -> None:
    """The portfolio-analysis API's five sample customers with their fixed ids; existing ones are left alone."""
    password_hash = seeded_password_hash(SANDBOX_PASSWORD, rounds, f"{seed}:customers")
    with new_session(engine) as session, write_transaction(session):
        own_bank_id = institutions.get_own_bank(session=session).id
        assert own_bank_id is not None
        taken_ibans = {iban for iban in session.exec(select(col(Account.iban))).all() if iban}
        for doc in DOCUMENT_CUSTOMERS:
            customer_id = uuid.UUID(doc.oid)
            if session.get(Customer, customer_id) is not None:
                report.document_customers_skipped += 1
                continue
            customer, accounts, keys = _document_rows(
                doc, institution_ids, own_bank_id, settings, taken_ibans
            )
            session.execute(insert(table_of(Customer)), [customer])
            if not users.username_exists(session=session, username=doc.username):
                session.execute(
                    insert(table_of(User)),
                    [
                        {
                            "uid": seeded_uid(f"{seed}:{doc.username}"),
                            "username": doc.username,
                            "password_hash": password_hash,
                            "role": Role.customer,
                            "customer_id": customer_id,
                            "created_at": SEED_NOW,
                        }
                    ],
                )
            ids = _insert_accounts(session, accounts, own_bank_id, SEED_NOW, mirrored=False)
            account_ids = dict(zip(keys, ids, strict=True))
            transactions = [
                {
                    "customer_id": customer_id,
                    "account_id": account_ids[t.account] if t.account else None,
                    "occurred_at": datetime.fromisoformat(t.when).replace(tzinfo=UTC),
                    "transaction_type": t.kind,
                    "amount": Decimal(t.amount),
                    "currency": t.currency,
                    "category": t.category,
                    "asset_symbol": t.symbol,
                    "quantity": Decimal(t.quantity) if t.quantity else None,
                    "counterparty": t.counterparty,
                    "description": t.description,
                }
                for t in sorted(doc.transactions, key=lambda t: t.when)
            ]
            spending = spending_rows(customer_id, transactions)
            session.execute(insert(table_of(PortfolioTransaction)), transactions)
            session.execute(insert(table_of(Spending)), spending)
            session.execute(
                insert(table_of(Asset)),
                [
                    {
                        "customer_id": customer_id,
                        "asset_type": h.asset_type,
                        "symbol": h.symbol,
                        "name": h.name,
                        "quantity": Decimal(h.quantity),
                        "current_value": Decimal(h.value),
                        "currency": h.currency,
                        "valued_at": VALUED_AT,
                    }
                    for h in doc.holdings
                ],
            )
            if doc.derivatives:
                session.execute(
                    insert(table_of(DerivativeTransaction)),
                    [
                        {
                            "customer_id": customer_id,
                            "derivative_type": d.derivative_type,
                            "side": d.side,
                            "asset_symbol": d.symbol,
                            "quantity": Decimal(d.quantity),
                            "strike_price": Decimal(d.strike) if d.strike else None,
                            "premium": Decimal(d.premium) if d.premium else None,
                            "currency": d.currency,
                            "execution_date": date.fromisoformat(d.executed),
                            "expiration_date": date.fromisoformat(d.expires),
                            "strategy": d.strategy,
                            "status": d.status,
                            "counterparty": d.counterparty,
                        }
                        for d in doc.derivatives
                    ],
                )
            report.document_customers_created += 1
            report.accounts_created += len(accounts)
            report.transactions_created += len(transactions)
            report.holdings_created += len(doc.holdings)
            report.derivatives_created += len(doc.derivatives)
            report.spending_rows_created += len(spending)


# --- Faker customers: a year of financial life -------------------------------------------------


@dataclass(frozen=True)
class Instrument:
    asset_type: AssetType
    symbol: str
    name: str
    price: Decimal
    currency: str


INSTRUMENTS = (
    Instrument(A.stock, "AAPL", "Apple Inc.", Decimal("150.00"), "USD"),
    Instrument(A.stock, "MSFT", "Microsoft Corp.", Decimal("420.00"), "USD"),
    Instrument(A.stock, "GOOGL", "Alphabet Inc.", Decimal("140.00"), "USD"),
    Instrument(A.stock, "ASML", "ASML Holding", Decimal("680.00"), "EUR"),
    Instrument(A.stock, "SAP", "SAP SE", Decimal("190.00"), "EUR"),
    Instrument(A.stock, "SHEL", "Shell plc", Decimal("27.50"), "GBP"),
    Instrument(A.etf, "VWRL", "Vanguard FTSE All-World", Decimal("110.00"), "EUR"),
    Instrument(A.etf, "IWDA", "iShares Core MSCI World", Decimal("85.00"), "EUR"),
    Instrument(A.etf, "SPY", "SPDR S&P 500 ETF", Decimal("450.00"), "USD"),
    Instrument(A.crypto, "BTC", "Bitcoin", Decimal("43000.00"), "USD"),
    Instrument(A.crypto, "ETH", "Ether", Decimal("2200.00"), "USD"),
    Instrument(A.bond, "DE10Y", "German Bund 10Y", Decimal("0.974"), "EUR"),
    Instrument(A.fund, "NNDAF", "NN Duurzaam Aandelen Fonds", Decimal("62.40"), "EUR"),
)
OPTIONABLE = [i for i in INSTRUMENTS if i.asset_type in (A.stock, A.etf)]

# How many Faker customers live each life, in tens of per cent.
PERSONA_WEIGHTS = (
    (PersonaKind.salaried, 5),
    (PersonaKind.student, 1),
    (PersonaKind.freelancer, 2),
    (PersonaKind.retiree, 1),
    (PersonaKind.small_business, 1),
)
HISTORY_START = datetime(HISTORY_YEAR, 1, 1, tzinfo=UTC)
OPENED_AT = datetime(HISTORY_YEAR - 1, 12, 31, 12, 0, tzinfo=UTC)


@dataclass
class CustomerPlan:
    customer: dict[str, Any]
    login: dict[str, Any]
    accounts: list[dict[str, Any]] = field(default_factory=list)
    account_keys: list[str] = field(default_factory=list)
    # Trades and dividends at the customer's broker (no account at this bank).
    transactions: list[dict[str, Any]] = field(default_factory=list)
    assets: list[dict[str, Any]] = field(default_factory=list)
    derivatives: list[dict[str, Any]] = field(default_factory=list)
    persona: PersonaKind = PersonaKind.salaried


def _day(rng: random.Random, month: int, low: int = 1, high: int = 28) -> date:
    return date(HISTORY_YEAR, month, rng.randint(low, high))


def _tx(
    when: datetime,
    kind: TransactionType,
    cents: int,
    currency: str,
    category: str | None,
    counterparty: str | None,
    *,
    symbol: str | None = None,
    quantity: Decimal | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    return {
        "occurred_at": when,
        "transaction_type": kind,
        "amount": money(cents),
        "currency": currency,
        "category": category,
        "asset_symbol": symbol,
        "quantity": quantity,
        "counterparty": counterparty,
        "description": description,
    }


def _holdings(
    rng: random.Random, customer_id: uuid.UUID, broker: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[Instrument]]:
    """One to four holdings, each bought during the year; dividends on some stocks and ETFs."""
    chosen = rng.sample(INSTRUMENTS, rng.randint(1, 4))
    assets, trades = [], []
    for instrument in chosen:
        if instrument.asset_type == A.crypto:
            quantity = Decimal(rng.randrange(1, 30_000)).scaleb(-4)
        elif instrument.asset_type == A.bond:
            quantity = Decimal(rng.randrange(1, 21) * 1000)
        else:
            quantity = Decimal(rng.randrange(1, 250))
        value = (quantity * instrument.price).quantize(CENT, ROUND_HALF_EVEN)
        paid = (value * Decimal(rng.randrange(80, 111)) / 100).quantize(CENT, ROUND_HALF_EVEN)
        bought = _stamp(rng, _day(rng, rng.randint(1, 11)))
        assets.append(
            {
                "customer_id": customer_id,
                "asset_type": instrument.asset_type,
                "symbol": instrument.symbol,
                "name": instrument.name,
                "quantity": quantity,
                "current_value": value,
                "currency": instrument.currency,
                "valued_at": VALUED_AT,
            }
        )
        trades.append(
            _tx(
                bought,
                T.buy,
                -max(int(paid * 100), 1),
                instrument.currency,
                "investment",
                broker,
                symbol=instrument.symbol,
                quantity=quantity,
            )
        )
        if instrument.asset_type in (A.stock, A.etf) and rng.random() < 0.6:
            dividend = max(int(value * 100) * rng.randrange(5, 20) // 1000, 1)
            trades.append(
                _tx(
                    _stamp(rng, _day(rng, 12, 1, 20)),
                    T.dividend,
                    dividend,
                    instrument.currency,
                    "income",
                    broker,
                    symbol=instrument.symbol,
                )
            )
    return assets, trades, chosen


def _derivatives(
    rng: random.Random, customer_id: uuid.UUID, held: Sequence[Instrument], broker: str
) -> list[dict[str, Any]]:
    rows = []
    candidates = [i for i in held if i in OPTIONABLE] or OPTIONABLE
    for _ in range(rng.randint(1, 2)):
        instrument = rng.choice(candidates)
        kind = rng.choice((CALL, PUT))
        side = rng.choice((BUY, SELL))
        executed = _day(rng, rng.randint(1, 12))
        expires = executed + timedelta(days=rng.randrange(30, 270))
        if expires < TODAY:
            status = rng.choice(
                (DerivativeStatus.closed, DerivativeStatus.expired, DerivativeStatus.exercised)
            )
        else:
            status = OPEN
        contracts = rng.randint(1, 5)
        strike = (instrument.price * Decimal(rng.randrange(85, 121)) / 100).quantize(CENT)
        premium = (instrument.price * contracts * Decimal(rng.randrange(2, 9))).quantize(CENT)
        rows.append(
            {
                "customer_id": customer_id,
                "derivative_type": kind,
                "side": side,
                "asset_symbol": instrument.symbol,
                "quantity": Decimal(contracts),
                "strike_price": strike,
                "premium": premium,
                "currency": instrument.currency,
                "execution_date": executed,
                "expiration_date": expires,
                "strategy": ("long_" if side == BUY else "short_") + kind.value,
                "status": status,
                "counterparty": broker,
            }
        )
    return rows


def plan_customer(
    index: int,
    *,
    seed: int,
    fakers: dict[str, Faker],
    currencies: Sequence[str],
    settings: Settings,
    bank_id: int,
    external_banks: Sequence[tuple[int, str]],
    taken_ibans: set[str],
    password_hash: str,
) -> CustomerPlan:
    """Customer number `index`, the same whatever else exists: its own generator decides all."""
    rng = random.Random(f"{seed}:{index}")
    country = rng.choice(list(FAKER_LOCALES))
    faker = fakers[country]
    faker.seed_instance(rng.getrandbits(64))
    customer_id = uuid.UUID(int=rng.getrandbits(128), version=4)
    joined = SEED_NOW - timedelta(days=rng.randrange(366, 3650))
    plan = CustomerPlan(
        customer={
            "id": customer_id,
            "name": faker.name(),
            "date_of_birth": TODAY - timedelta(days=rng.randrange(18 * 366, 85 * 365)),
            "address": faker.address().replace("\n", ", ")[:200],
            "country": country,
            "id_document": f"{country}{rng.randrange(10**7, 10**8)}",
            "created_at": joined,
        },
        login={
            "uid": seeded_uid(f"{seed}:{seeded_username(index)}"),
            "username": seeded_username(index),
            "password_hash": password_hash,
            "role": Role.customer,
            "customer_id": customer_id,
            "created_at": joined,
        },
    )
    types = [CHECKING] + [t for t in (SAVING, INVESTMENT) if rng.random() < 0.5]
    planned = {t: ("EUR" if t == CHECKING else rng.choice(currencies)) for t in types}
    broker = BROKER if rng.random() < 0.7 else EXCHANGE
    assets, trades, held = _holdings(rng, customer_id, broker)
    plan.assets = assets
    plan.persona = rng.choices(
        [kind for kind, _ in PERSONA_WEIGHTS], [weight for _, weight in PERSONA_WEIGHTS]
    )[0]

    # Own-bank accounts: an opening deposit each; the year's life then runs through the ledger.
    for account_type, currency in planned.items():
        opening = (
            rng.randrange(800_00, 6_000_00)
            if account_type == CHECKING
            else (rng.randrange(0, 20_000_00))
        )
        plan.account_keys.append(account_type.value)
        plan.accounts.append(
            {
                "customer_id": customer_id,
                "institution_id": bank_id,
                "account_type": account_type,
                "currency": currency,
                "iban": _iban(rng, settings, taken_ibans),
                "account_number": None,
                "balance": money(opening),
                "created_at": joined,
            }
        )
    if external_banks and rng.random() < 0.25:  # an account elsewhere, aggregated
        institution_id, prefix = rng.choice(external_banks)
        plan.account_keys.append("external")
        plan.accounts.append(
            {
                "customer_id": customer_id,
                "institution_id": institution_id,
                "account_type": CHECKING,
                "currency": rng.choice(currencies),
                "iban": None,
                "account_number": f"{prefix}-{index:08d}",
                "balance": money(rng.randrange(0, 40_000_00)),
                "created_at": joined,
            }
        )

    trades.sort(key=lambda row: row["occurred_at"])
    for row in trades:
        row["customer_id"] = customer_id
        row["account_id"] = None
    plan.transactions = trades
    if rng.random() < 0.1:
        plan.derivatives = _derivatives(rng, customer_id, held, broker)
    return plan


def seed_customers(
    engine: Engine,
    settings: Settings,
    institution_ids: dict[str, int],
    report: SeedReport,
    *,
    count: int,
    seed: int,
    rounds: int,
    progress: bool = True,
) -> None:
    """Create `count` Faker customers (customer00001 ...) with their year of financial life."""
    fakers = {country: Faker(locale) for country, locale in FAKER_LOCALES.items()}
    password_hash = seeded_password_hash(SANDBOX_PASSWORD, rounds, f"{seed}:customers")
    external_banks = [
        (institution_ids[name], prefix)
        for name, prefix in ((FIRST_NATIONAL, "FNB"), (EURO_SAVINGS, "ESB"), (THAMES, "TSB"))
        if name in institution_ids
    ]

    with new_session(engine) as session:
        bank_id = institutions.get_own_bank(session=session).id
        assert bank_id is not None
        existing = set(session.exec(select(User.username)).all())
        taken_ibans = {iban for iban in session.exec(select(col(Account.iban))).all() if iban}
        currencies = [
            c for c in SEED_CURRENCIES if reference.is_currency_supported(session=session, code=c)
        ]
        session.commit()

    plans: list[CustomerPlan] = []
    with Progress(console=console, transient=False, disable=not progress) as bar:
        task = bar.add_task("Seeding customers", total=count)
        for index in range(1, count + 1):
            if seeded_username(index) in existing:
                report.customers_skipped += 1
            else:
                plans.append(
                    plan_customer(
                        index,
                        seed=seed,
                        fakers=fakers,
                        currencies=currencies,
                        settings=settings,
                        bank_id=bank_id,
                        external_banks=external_banks,
                        taken_ibans=taken_ibans,
                        password_hash=password_hash,
                    )
                )
            if len(plans) >= BATCH:
                _flush(engine, settings, plans, report, seed)
            bar.advance(task)
        _flush(engine, settings, plans, report, seed)


def _flush(
    engine: Engine, settings: Settings, plans: list[CustomerPlan], report: SeedReport, seed: int
) -> None:
    """One unit of work per batch: the customers, logins, accounts (opened through the ledger),
    holdings and personas in Core executemany inserts, then their year lived by the life engine
    (`personas.live_history`: the days the sandbox's clock would live, through the ledger)."""
    if not plans:
        return
    accounts = [a for p in plans for a in p.accounts]
    with new_session(engine) as session, write_transaction(session):
        session.execute(insert(table_of(Customer)), [p.customer for p in plans])
        session.execute(insert(table_of(User)), [p.login for p in plans])
        own_bank_id = institutions.get_own_bank(session=session).id
        assert own_bank_id is not None
        ids = iter(_insert_accounts(session, accounts, own_bank_id, OPENED_AT, mirrored=True))
        persona_rows = []
        for plan in plans:
            by_key = {key: next(ids) for key in plan.account_keys}
            persona_rows.append(
                {
                    "customer_id": plan.customer["id"],
                    "kind": plan.persona,
                    "account_id": by_key[CHECKING.value],
                    "seed": seed,
                    "started_on": HISTORY_START.date(),
                    "next_on": HISTORY_START.date(),
                    "created_at": OPENED_AT,
                }
            )
        transactions = [row for p in plans for row in p.transactions]
        for model, rows in (
            (Persona, persona_rows),
            (PortfolioTransaction, transactions),
            (Asset, [a for p in plans for a in p.assets]),
            (DerivativeTransaction, [d for p in plans for d in p.derivatives]),
        ):
            if rows:
                session.execute(insert(table_of(model)), rows)
        lived = personas.live_history(
            session=session, settings=settings, start=HISTORY_START, end=SEED_NOW
        )
        spending = session.exec(
            select(func.count()).where(
                col(Spending.customer_id).in_([p.customer["id"] for p in plans])
            )
        ).one()
    report.customers_created += len(plans)
    report.accounts_created += len(accounts)
    report.transactions_created += (
        len(transactions)
        + len(accounts)
        + sum(count for name, count in lived.items() if name in LEDGER_EVENTS)
    )
    report.holdings_created += sum(len(p.assets) for p in plans)
    report.spending_rows_created += spending
    report.derivatives_created += sum(len(p.derivatives) for p in plans)
    plans.clear()


# What the life engine counts that is a posting on a customer's account.
LEDGER_EVENTS = ("income.received", "bill.paid", "card_payment.posted")


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
