"""The five sample customers of the portfolio-analysis API, with their fixed CustomerOIDs,
accounts, holdings, transactions, spending and derivatives, and their logins."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from app.core.config import Settings
from app.core.db import new_session, table_of, write_transaction
from app.models.account import Account, AccountType
from app.models.asset import Asset, AssetType
from app.models.customer import Customer
from app.models.derivative_transaction import (
    DerivativeSide,
    DerivativeStatus,
    DerivativeTransaction,
    DerivativeType,
)
from app.models.portfolio_transaction import PortfolioTransaction, TransactionType
from app.models.spending import Spending
from app.models.user import Role, User
from app.seeding.common import (
    BUY,
    CALL,
    CHECKING,
    FORWARD,
    FUTURE,
    INVESTMENT,
    OPEN,
    PUT,
    SANDBOX_PASSWORD,
    SAVING,
    SEED_NOW,
    SELL,
    VALUED_AT,
    A,
    SeedReport,
    T,
    open_accounts,
    seeded_iban,
    seeded_password_hash,
    seeded_uid,
    spending_rows,
)
from app.seeding.reference import BROKER, EXCHANGE, FIRST_NATIONAL, THAMES
from app.seeding.rows import (
    AccountRow,
    AssetRow,
    CustomerRow,
    DerivativeRow,
    LoginRow,
    TransactionRow,
)
from app.services import institutions, users

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
) -> tuple[CustomerRow, list[AccountRow], list[str]]:
    customer_id = uuid.UUID(doc.oid)
    rng = random.Random(f"document:{doc.oid}")
    customer: CustomerRow = {"id": customer_id, "name": doc.name, "created_at": SEED_NOW}
    accounts: list[AccountRow] = []
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
                "iban": seeded_iban(rng, settings, taken_ibans) if ours else None,
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
                login: LoginRow = {
                    "uid": seeded_uid(f"{seed}:{doc.username}"),
                    "username": doc.username,
                    "password_hash": password_hash,
                    "role": Role.customer,
                    "customer_id": customer_id,
                    "created_at": SEED_NOW,
                }
                session.execute(insert(table_of(User)), [login])
            ids = open_accounts(session, accounts, own_bank_id, SEED_NOW, mirrored=False)
            account_ids = dict(zip(keys, ids, strict=True))
            transactions: list[TransactionRow] = [
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
            holdings: list[AssetRow] = [
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
            ]
            session.execute(insert(table_of(Asset)), holdings)
            derivatives: list[DerivativeRow] = [
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
            ]
            if derivatives:
                session.execute(insert(table_of(DerivativeTransaction)), derivatives)
            report.document_customers_created += 1
            report.accounts_created += len(accounts)
            report.transactions_created += len(transactions)
            report.holdings_created += len(doc.holdings)
            report.derivatives_created += len(doc.derivatives)
            report.spending_rows_created += len(spending)
