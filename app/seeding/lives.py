"""Generated customers (customer00001 ...): accounts opened through the ledger, a persona, a few
holdings with their trades and dividends, now and then a derivative; then the life engine
lives their year."""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from faker import Faker
from rich.progress import Progress
from sqlalchemy import func, insert
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from app.core.config import Settings
from app.core.db import new_session, table_of, write_transaction
from app.models.account import Account
from app.models.asset import Asset, AssetType
from app.models.customer import Customer
from app.models.derivative_transaction import (
    DerivativeStatus,
    DerivativeTransaction,
)
from app.models.persona import Persona, PersonaKind
from app.models.portfolio_transaction import PortfolioTransaction, TransactionType
from app.models.spending import Spending
from app.models.user import Role, User
from app.seeding.common import (
    BATCH,
    BUY,
    CALL,
    CENT,
    CHECKING,
    FAKER_LOCALES,
    HISTORY_YEAR,
    INVESTMENT,
    OPEN,
    PUT,
    SANDBOX_PASSWORD,
    SAVING,
    SEED_CURRENCIES,
    SEED_NOW,
    SELL,
    TODAY,
    VALUED_AT,
    A,
    SeedReport,
    T,
    console,
    money,
    open_accounts,
    seeded_iban,
    seeded_password_hash,
    seeded_uid,
    seeded_username,
    stamp,
)
from app.seeding.reference import BROKER, EURO_SAVINGS, EXCHANGE, FIRST_NATIONAL, THAMES
from app.seeding.rows import (
    AccountRow,
    AssetRow,
    CustomerRow,
    DerivativeRow,
    LoginRow,
    PersonaRow,
    TransactionRow,
)
from app.services import institutions, personas, reference

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
    customer: CustomerRow
    login: LoginRow
    accounts: list[AccountRow] = field(default_factory=list)
    account_keys: list[str] = field(default_factory=list)
    # Trades and dividends at the customer's broker (no account at this bank).
    transactions: list[TransactionRow] = field(default_factory=list)
    assets: list[AssetRow] = field(default_factory=list)
    derivatives: list[DerivativeRow] = field(default_factory=list)
    persona: PersonaKind = PersonaKind.salaried


def _day(rng: random.Random, month: int, low: int = 1, high: int = 28) -> date:
    return date(HISTORY_YEAR, month, rng.randint(low, high))


def _tx(
    customer_id: uuid.UUID,
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
) -> TransactionRow:
    return {
        "customer_id": customer_id,
        "account_id": None,  # at the customer's broker
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
) -> tuple[list[AssetRow], list[TransactionRow], list[Instrument]]:
    """One to four holdings, each bought during the year; dividends on some stocks and ETFs."""
    chosen = rng.sample(INSTRUMENTS, rng.randint(1, 4))
    assets: list[AssetRow] = []
    trades: list[TransactionRow] = []
    for instrument in chosen:
        if instrument.asset_type == A.crypto:
            quantity = Decimal(rng.randrange(1, 30_000)).scaleb(-4)
        elif instrument.asset_type == A.bond:
            quantity = Decimal(rng.randrange(1, 21) * 1000)
        else:
            quantity = Decimal(rng.randrange(1, 250))
        value = (quantity * instrument.price).quantize(CENT, ROUND_HALF_EVEN)
        paid = (value * Decimal(rng.randrange(80, 111)) / 100).quantize(CENT, ROUND_HALF_EVEN)
        bought = stamp(rng, _day(rng, rng.randint(1, 11)))
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
                customer_id,
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
                    customer_id,
                    stamp(rng, _day(rng, 12, 1, 20)),
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
) -> list[DerivativeRow]:
    rows: list[DerivativeRow] = []
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
                "iban": seeded_iban(rng, settings, taken_ibans),
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
        ids = iter(open_accounts(session, accounts, own_bank_id, OPENED_AT, mirrored=True))
        persona_rows: list[PersonaRow] = []
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
