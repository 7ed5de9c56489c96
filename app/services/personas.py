"""Personas: the life engine. A customer with a persona lives one day at a time on their checking
account as the sandbox's clock passes: income, rent, bills, subscriptions and card spending at
real merchants, each in its category.

Everything a day brings is decided by the persona's seed, the customer and the date alone (one
generator per day), so the same seed gives the same life however the clock is moved (a day at a
time or a year at once). A day is lived when it is over (its events are written at their own
times of that day, at its last moment on the clock), in time order with everything else that
falls due. Money moves through the ledger: income and bills are `income` and `payment` entries
with the bank's funding account (the world outside the bank), card spending is held and posts as
card payments do. What the balance cannot pay is declined (a card) or fails (a bill), counted
and not retried.
"""

from __future__ import annotations

import functools
import random
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, bindparam, func, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.core.config import Settings
from app.core.db import table_of, write_transaction
from app.core.due import Due, Run, day_start
from app.errors import (
    CustomerNotFound,
    NoCheckingAccount,
    PersonaExists,
    PersonaNotFound,
)
from app.models.account import Account, AccountType
from app.models.customer import Customer
from app.models.funding_account import FundingAccount
from app.models.journal_entry import EntryKind
from app.models.persona import Persona, PersonaCreate, PersonaKind, PersonaPublic
from app.models.portfolio_transaction import TransactionType
from app.services import card_payments, clock, institutions, ledger

# Ties at one moment: after card payments, transfers, standing orders and interest.
DUE_RANK = 4
DAY = timedelta(days=1)
MICROSECOND = timedelta(microseconds=1)


# --- what a life is made of ----------------------------------------------------------------------


@dataclass(frozen=True)
class Spend:
    """Card spending in one category: on a day, with this chance, at one of the merchants."""

    category: str
    merchants: tuple[str, ...]
    chance: float
    cents: tuple[int, int]


GROCERIES = ("Albert Heijn", "Jumbo", "Lidl", "Aldi", "Rewe", "Edeka", "Delhaize", "Colruyt")
DINING = ("Vapiano", "Wagamama", "Starbucks", "McDonald's", "Le Pain Quotidien", "Sushi Time")
TRANSPORT = ("NS", "Deutsche Bahn", "NMBS", "Shell", "Uber", "Swapfiets")
SHOPPING = ("Zalando", "Bol.com", "Amazon", "IKEA", "MediaMarkt", "H&M")
ENTERTAINMENT = ("Pathé", "Steam", "Eventim", "Kinepolis")
HEALTH = ("Kruidvat", "DM Drogerie", "Etos", "Apotheek")
UTILITIES = ("Vattenfall", "Eneco", "E.ON", "Engie", "Essent", "Luminus")
SUBSCRIPTIONS = (("Netflix", 1399), ("Spotify", 1099), ("Disney+", 999), ("iCloud", 299))
EMPLOYERS = ("Philips", "ING Groep", "Siemens", "Ahold Delhaize", "ASML", "Unilever", "KPN")
CLIENTS = ("Studio Noord", "Brightline BV", "Kaasmakers", "Delta Logistics", "Vondel Media")
PENSIONS = ("SVB", "ABP", "PFZW", "Deutsche Rentenversicherung")
SUPPLIERS = ("Makro", "Sligro", "Hanos", "Bidfood")


def _everyday(scale: float) -> tuple[Spend, ...]:
    def cents(low: int, high: int) -> tuple[int, int]:
        return int(low * scale), int(high * scale)

    return (
        Spend("groceries", GROCERIES, 0.12, cents(1800, 14000)),
        Spend("dining", DINING, 0.05, cents(900, 8500)),
        Spend("transportation", TRANSPORT, 0.05, cents(300, 6000)),
        Spend("shopping", SHOPPING, 0.02, cents(1500, 20000)),
        Spend("entertainment", ENTERTAINMENT, 0.02, cents(800, 6000)),
        Spend("health", HEALTH, 0.02, cents(400, 5000)),
    )


@dataclass(frozen=True)
class Traits:
    """A persona's fixed terms, drawn once from its seed and customer."""

    kind: PersonaKind
    income_cents: int
    payer: str
    rent_cents: int
    landlord: str
    utility: str
    subscriptions: tuple[tuple[str, int, int], ...]  # merchant, cents, day of the month
    spending: tuple[Spend, ...]


@functools.lru_cache(maxsize=20_000)
def traits(kind: PersonaKind, seed: int, customer_id: uuid.UUID) -> Traits:
    rng = random.Random(f"persona:{seed}:{customer_id}")
    subscriptions = tuple(
        (merchant, cents, rng.randint(1, 28))
        for merchant, cents in rng.sample(SUBSCRIPTIONS, rng.randint(1, 3))
    )
    if kind == PersonaKind.salaried:
        income = rng.randrange(2_400_00, 6_500_00)
        return Traits(kind, income, rng.choice(EMPLOYERS), income * rng.randrange(24, 34) // 100,
                      "Woonstichting De Key", rng.choice(UTILITIES), subscriptions,
                      _everyday(1.0))  # fmt: skip
    if kind == PersonaKind.student:
        return Traits(kind, rng.randrange(350_00, 800_00), "DUO", rng.randrange(350_00, 600_00),
                      "SSH Student Housing", rng.choice(UTILITIES), subscriptions[:1],
                      _everyday(0.6))  # fmt: skip
    if kind == PersonaKind.freelancer:
        return Traits(kind, rng.randrange(600_00, 2_800_00), rng.choice(CLIENTS),
                      rng.randrange(900_00, 1_600_00), "Vesteda", rng.choice(UTILITIES),
                      subscriptions, _everyday(1.1))  # fmt: skip
    if kind == PersonaKind.retiree:
        return Traits(kind, rng.randrange(1_400_00, 2_600_00), rng.choice(PENSIONS),
                      rng.randrange(500_00, 1_100_00), "Woonzorg Nederland",
                      rng.choice(UTILITIES), subscriptions[:1], _everyday(0.8))  # fmt: skip
    return Traits(kind, rng.randrange(80_00, 900_00), "Card terminal payouts",
                  rng.randrange(1_200_00, 3_000_00), "Vastgoed Beheer", rng.choice(UTILITIES),
                  subscriptions, (Spend("supplies", SUPPLIERS, 0.1, (2500, 40000)),
                                  *_everyday(0.5)))  # fmt: skip


@dataclass(frozen=True)
class Event:
    at: datetime
    cents: int  # positive: money in; negative: money out
    kind: EntryKind  # income, payment or card_payment
    counterparty: str
    category: str
    description: str
    transaction_type: TransactionType | None = None


def _at(day: date, rng: random.Random, first_hour: int = 7, last_hour: int = 21) -> datetime:
    return datetime.combine(
        day, time(rng.randint(first_hour, last_hour), rng.randrange(60)), tzinfo=UTC
    )


def events(life: Traits, day: date, rng: random.Random) -> list[Event]:
    """What `day` brings a persona, in time order."""
    found: list[Event] = []
    kind = life.kind

    def income(cents: int, description: str, kind_of: TransactionType | None = None) -> None:
        found.append(Event(_at(day, rng, 6, 9), cents, EntryKind.income, life.payer, "income",
                           description, kind_of))  # fmt: skip

    if kind == PersonaKind.salaried and day.day == 25:
        income(life.income_cents, f"Salary {day:%B %Y}", TransactionType.salary)
    elif kind == PersonaKind.student and day.day == 1:
        income(life.income_cents, f"Study allowance {day:%B %Y}")
    elif kind == PersonaKind.student and day.day == 15:
        income(life.income_cents // 2, "Part-time job", TransactionType.salary)
    elif kind == PersonaKind.retiree and day.day == 23:
        income(life.income_cents, f"Pension {day:%B %Y}")
    elif kind == PersonaKind.freelancer and day.weekday() < 5 and rng.random() < 0.09:
        amount = life.income_cents * rng.randrange(50, 151) // 100
        income(amount, f"Invoice {day:%Y%m}-{rng.randrange(100, 1000)}")
    elif kind == PersonaKind.small_business and day.weekday() < 6 and rng.random() < 0.85:
        income(life.income_cents * rng.randrange(40, 161) // 100, f"Takings {day:%d %b %Y}")
    if day.day == 1:
        found.append(Event(_at(day, rng, 8, 10), -life.rent_cents, EntryKind.payment,
                           life.landlord, "rent", f"Rent {day:%B %Y}"))  # fmt: skip
    if day.day == 5:
        found.append(Event(_at(day, rng, 8, 12), -rng.randrange(60_00, 220_00), EntryKind.payment,
                           life.utility, "utilities", f"Energy {day:%B %Y}"))  # fmt: skip
    for merchant, cents, on in life.subscriptions:
        if day.day == on:
            found.append(Event(_at(day, rng, 2, 5), -cents, EntryKind.card_payment, merchant,
                               "subscriptions", merchant))  # fmt: skip
    for spend in life.spending:
        if rng.random() < spend.chance:
            found.append(Event(_at(day, rng), -rng.randrange(*spend.cents), EntryKind.card_payment,
                               rng.choice(spend.merchants), spend.category,
                               spend.category))  # fmt: skip
    found.sort(key=lambda event: event.at)
    return found


# --- giving a customer a life ------------------------------------------------------------------


def create(*, session: Session, data: PersonaCreate) -> PersonaPublic:
    """Give a customer (with a checking account at this bank) a persona, from `start_on`
    (default: the sandbox's tomorrow): 404 for an unknown customer, 409 when it has one."""
    with write_transaction(session):
        if session.get(Customer, data.customer_oid) is None:
            raise CustomerNotFound.for_oid(data.customer_oid)
        if session.get(Persona, data.customer_oid) is not None:
            raise PersonaExists(
                f"Customer {data.customer_oid} has a persona already: delete it first"
            )
        start = data.start_on or clock.now(session).date() + DAY
        now = clock.today_or_later(session, start, field="start_on")
        account = _checking_account(session, data.customer_oid)
        assert account.id is not None
        row = Persona(
            customer_id=data.customer_oid,
            kind=data.persona,
            account_id=account.id,
            seed=data.seed,
            started_on=start,
            next_on=start,
            created_at=now,
        )
        session.add(row)
        session.flush()
        public = _public(row, account)
    return public


def _checking_account(session: Session, customer_id: uuid.UUID) -> Account:
    bank = institutions.get_own_bank(session=session)
    account = session.exec(
        select(Account)
        .where(
            col(Account.customer_id) == customer_id,
            col(Account.institution_id) == bank.id,
            col(Account.account_type) == AccountType.checking,
        )
        .order_by(col(Account.id))
    ).first()
    if account is None:
        raise NoCheckingAccount(
            f"Customer {customer_id} has no checking account at this bank for a persona to live on"
        )
    return account


def _public(row: Persona, account: Account) -> PersonaPublic:
    assert account.iban is not None
    return PersonaPublic(
        customer_oid=row.customer_id,
        persona=row.kind,
        iban=account.iban,
        seed=row.seed,
        started_on=row.started_on,
        next_on=row.next_on,
        created_at=row.created_at,
    )


def list_all(*, session: Session) -> list[PersonaPublic]:
    rows = session.exec(
        select(Persona, Account)
        .join(Account, col(Account.id) == col(Persona.account_id))
        .order_by(col(Persona.created_at), col(Persona.customer_id))
    ).all()
    return [_public(row, account) for row, account in rows]


def delete(*, session: Session, customer_id: uuid.UUID) -> None:
    """The customer's life stops (what it brought stays)."""
    with write_transaction(session):
        row = session.get(Persona, customer_id)
        if row is None:
            raise PersonaNotFound(f"Customer {customer_id} has no persona")
        session.delete(row)


# --- as the clock passes -----------------------------------------------------------------------


def _day_end(day: date) -> datetime:
    return day_start(day + DAY) - MICROSECOND


def next_due(*, session: Session, after: datetime) -> datetime | None:
    """When the next day to be lived is over: the earliest persona's next day, or the first day
    not over by `after` when that is later (the days over before due work began are not
    lived)."""
    day = session.exec(select(func.min(Persona.next_on))).one()
    return None if day is None else _day_end(max(day, (after + MICROSECOND).date()))


def due(
    *, session: Session, start: datetime, end: datetime, since: datetime, settings: Settings
) -> list[Due]:
    """A day for every day that is over by `end`, from the earliest persona's next day (days
    over before `since`, when the clock's due work began, are not lived)."""
    first = session.exec(select(func.min(Persona.next_on))).one()
    if first is None:
        return []
    day = max(first, (since + MICROSECOND).date())
    items = []
    while _day_end(day) <= end:
        at = max(start, _day_end(day))
        items.append(
            Due(at=at, rank=(DUE_RANK, day.toordinal()), run=_runner(session, settings, day))
        )
        day += DAY
    return items


def _runner(session: Session, settings: Settings, day: date) -> Run:
    return lambda: live(session, [day], end=_day_end(day), settings=settings)


_PERSONAS = table_of(Persona)
_DUE_PERSONAS = (
    sa_select(
        _PERSONAS.c.customer_id,
        _PERSONAS.c.kind,
        _PERSONAS.c.seed,
        _PERSONAS.c.started_on,
        _PERSONAS.c.next_on,
        table_of(Account).c.iban,
    )
    .join(table_of(Account), table_of(Account).c.id == _PERSONAS.c.account_id)
    .where(_PERSONAS.c.next_on <= bindparam("day"))
    .order_by(_PERSONAS.c.customer_id)
    .with_for_update(of=_PERSONAS)
)
_LIVED = (
    update(_PERSONAS)
    .where(_PERSONAS.c.next_on <= bindparam("day"))
    .values(next_on=bindparam("next_on"))
)


@dataclass
class _Life:
    """A persona living on its locked account: what it may still spend as its days pass."""

    customer_id: uuid.UUID
    traits: Traits
    seed: int
    first_day: date  # the first day it lives (not before it started, nor a day it lived)
    holder: ledger.LockedAccount
    fund: FundingAccount
    available: Decimal


@dataclass(frozen=True)
class _Placed:
    """A hold a day placed: its life, and when it settles."""

    hold: card_payments.Hold
    life: _Life
    settles: datetime


def live_history(
    *, session: Session, settings: Settings, start: datetime, end: datetime
) -> dict[str, int]:
    """Live the personas' days from `start` to `end` (the past, for seeding) as the clock would
    (`live` of each day, then the card payments settling on theirs), in the caller's unit of
    work, in one batch: the same rows the clock writes, through the ledger's one door. The
    personas' accounts hold nothing else: the clock posts holds placed before."""
    days = []
    day = (start + MICROSECOND).date()
    while _day_end(day) <= end:
        days.append(day)
        day += DAY
    return live(session, days, end=end, settings=settings)


def live(
    session: Session, days: list[date], *, end: datetime, settings: Settings
) -> dict[str, int]:
    """Every persona due lives `days` (consecutive, each over by `end`), in one write through
    the ledger: income and bills as entries, card spending as holds; what the available
    balance cannot pay is declined or fails. A hold placed here that settles by `end` posts
    here too, where the clock's days would post it: at the start of its settlement day (or the
    next day's, when it settles on its own day), before that day is lived. The clock lives one
    day at a time, in order with everything else that falls due (the rest of its holds post
    as the clock passes, `card_payments`)."""
    if not days:
        return {}
    last = days[-1]
    due_personas = session.execute(_DUE_PERSONAS, {"day": last}).all()
    if not due_personas:
        return {}
    session.execute(_LIVED, {"day": last, "next_on": last + DAY})
    lives = _lives(session, due_personas)
    entries: list[ledger.Entry] = []
    placed: list[_Placed] = []
    posted: dict[int, int] = {}  # a placed hold's index: its posting's index in `entries`
    waiting: dict[date, list[int]] = defaultdict(list)  # placed holds, by the day they post
    ran: Counter[str] = Counter()
    for day in days:
        _settle(waiting.pop(day, []), placed, posted, entries)
        today: list[ledger.Entry] = []
        for life in lives:
            if day < life.first_day:
                continue
            for hold in _live_day(life, day, today, ran):
                settles = card_payments.settles_at(hold.at, settings.card_settlement_days)
                waiting[max(day + DAY, settles.date())].append(len(placed))
                placed.append(_Placed(hold, life, settles))
        today.sort(key=lambda entry: entry.at or day_start(day))
        entries.extend(today)
    if end >= day_start(last + DAY):
        _settle(waiting.pop(last + DAY, []), placed, posted, entries)
    recorded = ledger.record_entries(session=session, entries=entries)
    # After the entries: the ledger checks them against what was held before these days.
    card_payments.place(
        session,
        [item.hold for item in placed],
        settlement_days=settings.card_settlement_days,
        posted=[
            (item.settles, recorded[posted[index]].id) if index in posted else None
            for index, item in enumerate(placed)
        ],
    )
    ran["card_payment.held"] += len(placed)
    ran["card_payment.posted"] += len(posted)
    return {name: count for name, count in ran.items() if count}


def _lives(session: Session, due_personas: Sequence[Row[Any]]) -> list[_Life]:
    """The due personas, in customer order, on their locked accounts."""
    locked = ledger.lock_accounts(session=session, ibans=[row.iban for row in due_personas])
    funds: dict[str, FundingAccount] = {}
    lives = []
    for row in due_personas:
        holder = locked[row.iban]
        currency = holder.account.currency
        if currency not in funds:
            funds[currency] = ledger.funding_account(session=session, currency=currency)
        lives.append(
            _Life(
                customer_id=row.customer_id,
                traits=traits(PersonaKind(row.kind), row.seed, row.customer_id),
                seed=row.seed,
                first_day=max(row.started_on, row.next_on),
                holder=holder,
                fund=funds[currency],
                available=holder.account.balance - holder.account.held,
            )
        )
    return lives


def _live_day(
    life: _Life, day: date, today: list[ledger.Entry], ran: Counter[str]
) -> list[card_payments.Hold]:
    """What `day` brings a life (a pure function of its seed, customer and the date): its
    income and bills added to `today`'s entries, its card spending returned as holds, in
    time order, what the available balance cannot pay declined."""
    rng = random.Random(f"day:{life.seed}:{life.customer_id}:{day.isoformat()}")
    holds = []
    for event in events(life.traits, day, rng):
        amount = Decimal(event.cents).scaleb(-2)
        if event.cents < 0 and -amount > life.available:
            ran[
                "card_payment.declined" if event.kind == EntryKind.card_payment else "bill.failed"
            ] += 1
            continue
        life.available += amount
        if event.kind == EntryKind.card_payment:
            holds.append(card_payments.Hold(life.holder, -amount, event.counterparty,
                                            event.category, event.at))  # fmt: skip
            continue
        today.append(
            ledger.Entry(
                kind=event.kind,
                description=event.description,
                legs=ledger.funding_legs(
                    life.holder, life.fund, amount, outside=event.counterparty
                ),
                at=event.at,
                category=event.category,
                transaction_type=event.transaction_type,
            )
        )
        ran["income.received" if event.cents > 0 else "bill.paid"] += 1
    return holds


def _settle(
    due: list[int], placed: list[_Placed], posted: dict[int, int], entries: list[ledger.Entry]
) -> None:
    """Post held payments that settle on a day, as the clock's card payments would: in order of
    their settlement moment, then of their placing (which posting a hold makes changes no
    available balance)."""
    for index in sorted(due, key=lambda index: (placed[index].settles, index)):
        item = placed[index]
        posted[index] = len(entries)
        entries.append(
            card_payments.posting_entry(item.life.holder, item.life.fund, item.hold.amount,
                                        item.hold.merchant, item.hold.category, item.settles)
        )  # fmt: skip
