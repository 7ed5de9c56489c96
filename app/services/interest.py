"""Interest on saving accounts: admins set an annual rate per currency; the sandbox's clock pays
it, monthly, as a ledger entry from the bank's funding account.

The rule: for every day of the month, the account's booked balance at the end of that day
(UTC, on the sandbox's clock) earns `balance * annual_percent / 100 / days in that year`
(actual/actual: 365, or 366 in a leap year). The month's sum, kept exact, is rounded once, half
to even, to the cent, and paid at the start of the next month (00:00 UTC on the 1st) with the
entry `interest`, description "Interest <Month YYYY>". A month that rounds to 0.00 pays nothing.
An account earns from the day it was opened. Months that ended before the sandbox's clock first
advanced or ticked (a new sandbox's seeded history) are not paid; the month it first moves in is
paid in full.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.core.config import Settings
from app.core.db import write_transaction
from app.core.due import Due, Run, day_start, due_at, first_of_next_month
from app.core.money import CENT
from app.errors import InterestRateNotFound, UnsupportedCurrency
from app.models.account import Account, AccountType
from app.models.interest import InterestRate
from app.models.journal_entry import EntryKind
from app.models.posting import Posting
from app.services import clock, institutions, ledger, reference

# Ties at one moment: after scheduled transfers and standing orders.
DUE_RANK = 3


def list_rates(*, session: Session) -> Sequence[InterestRate]:
    return session.exec(select(InterestRate).order_by(col(InterestRate.currency))).all()


def get_rate(*, session: Session, currency: str) -> InterestRate:
    code = currency.strip().upper()
    row = session.get(InterestRate, code)
    if row is None:
        raise InterestRateNotFound(f"No interest rate for {code}")
    return row


def set_rate(
    *, session: Session, currency: str, annual_percent: Decimal
) -> tuple[InterestRate, bool]:
    """Create or replace a currency's rate; `True` when it was created."""
    code = currency.strip().upper()
    with write_transaction(session):
        if not reference.is_currency_supported(session=session, code=code):
            raise UnsupportedCurrency(f"Currency {code} is not supported")
        row = session.get(InterestRate, code)
        created = row is None
        moment = clock.now(session)
        if row is None:
            row = InterestRate(currency=code, annual_percent=annual_percent, updated_at=moment)
        else:
            row.annual_percent, row.updated_at = annual_percent, moment
        session.add(row)
    return row, created


def delete_rate(*, session: Session, currency: str) -> None:
    with write_transaction(session):
        session.delete(get_rate(session=session, currency=currency))


def ensure_defaults(
    *, session: Session, rates: Mapping[str, Decimal], now: datetime | None = None
) -> int:
    """The default rates, when there are none yet (first start), for supported currencies."""
    added = 0
    with write_transaction(session):
        if session.exec(select(InterestRate).limit(1)).first() is not None:
            return 0
        for code, percent in rates.items():
            if reference.is_currency_supported(session=session, code=code):
                session.add(
                    InterestRate(
                        currency=code, annual_percent=percent, updated_at=now or clock.now(session)
                    )
                )
                added += 1
    return added


# --- as the clock passes ---------------------------------------------------------------------


def month_ends(since: datetime, until: datetime) -> list[date]:
    """The first days of the months that begin after `since` and by `until`."""
    firsts = []
    first = first_of_next_month(since.date())
    while day_start(first) <= until:
        firsts.append(first)
        first = first_of_next_month(first)
    return firsts


def next_due(*, session: Session, after: datetime) -> datetime | None:
    """The next month's payment run: the start of the month after `after`'s (none while no
    saving account could earn)."""
    if not _any_saving_account(session):
        return None
    return day_start(first_of_next_month(after.date()))


def due(
    *, session: Session, start: datetime, end: datetime, since: datetime, settings: Settings
) -> list[Due]:
    """A payment run for every month that ends after `since` and by `end` (none while no
    saving account could earn)."""
    months = month_ends(since, end)
    if not months or not _any_saving_account(session):
        return []
    return [
        Due(
            at=due_at(first, start),
            rank=(DUE_RANK, first.toordinal()),
            run=_runner(session, first, due_at(first, start)),
        )
        for first in months
    ]


def _any_saving_account(session: Session) -> bool:
    return (
        session.exec(
            select(Account.id).where(col(Account.account_type) == AccountType.saving).limit(1)
        ).first()
        is not None
    )


def _runner(session: Session, first: date, at: datetime) -> Run:
    return lambda: pay_month(session, month=first - timedelta(days=1), at=at)


def month_interest(
    *,
    opening: Decimal,
    postings: Sequence[tuple[datetime, Decimal]],
    days: Sequence[date],
    annual_percent: Decimal,
) -> Decimal:
    """The interest of `days` (in order) for a balance of `opening` before the first and moved
    to each posting's `balance_after` at its moment: exact, not rounded."""
    total = Decimal(0)
    balance = opening
    moves = iter(postings)
    upcoming = next(moves, None)
    for day in days:
        day_end = day_start(day + timedelta(days=1))
        while upcoming is not None and upcoming[0] < day_end:
            balance = upcoming[1]
            upcoming = next(moves, None)
        year_days = 366 if calendar.isleap(day.year) else 365
        total += balance * annual_percent / 100 / year_days
    return total


def pay_month(session: Session, *, month: date, at: datetime) -> dict[str, int]:
    """Pay every saving account of this bank its interest for the month of `month`, in one
    batch through the ledger, at `at` (the start of the next month, or later)."""
    first, after = month.replace(day=1), first_of_next_month(month)
    start, end = day_start(first), day_start(after)
    rates = {row.currency: row.annual_percent for row in list_rates(session=session)}
    bank = institutions.get_own_bank(session=session)
    accounts = session.exec(
        select(Account)
        .where(
            col(Account.account_type) == AccountType.saving,
            col(Account.institution_id) == bank.id,
            col(Account.iban).is_not(None),
            col(Account.currency).in_(list(rates)),
            col(Account.created_at) < end,
        )
        .order_by(col(Account.id))
    ).all()
    if not accounts:
        return {}
    ids = [a.id for a in accounts]
    last_before = (
        select(func.max(Posting.id))
        .where(col(Posting.account_id).in_(ids), col(Posting.created_at) < start)
        .group_by(col(Posting.account_id))
    )
    opening: dict[int | None, Decimal] = dict(
        session.exec(
            select(col(Posting.account_id), col(Posting.balance_after)).where(
                col(Posting.id).in_(last_before)
            )
        ).all()
    )
    moves: dict[int, list[tuple[datetime, Decimal]]] = {}
    for account_id, moved_at, balance in session.exec(
        select(col(Posting.account_id), col(Posting.created_at), col(Posting.balance_after))
        .where(
            col(Posting.account_id).in_(ids),
            col(Posting.created_at) >= start,
            col(Posting.created_at) < end,
        )
        .order_by(col(Posting.account_id), col(Posting.id))
    ).all():
        assert account_id is not None
        moves.setdefault(account_id, []).append((moved_at, balance))
    owed = {}
    for account in accounts:
        assert account.id is not None
        assert account.iban is not None
        opened = max(first, account.created_at.date())
        days = [opened + timedelta(days=k) for k in range((after - opened).days)]
        amount = month_interest(
            opening=opening.get(account.id, Decimal(0)),
            postings=moves.get(account.id, []),
            days=days,
            annual_percent=rates[account.currency],
        ).quantize(CENT, rounding=ROUND_HALF_EVEN)
        if amount > 0:
            owed[account.iban] = amount
    if not owed:
        return {}
    locked = ledger.lock_accounts(session=session, ibans=list(owed))
    funds = {
        currency: ledger.funding_account(session=session, currency=currency)
        for currency in sorted({locked[iban].account.currency for iban in owed})
    }
    description = f"Interest {first:%B %Y}"
    entries = []
    for iban, amount in owed.items():
        holder = locked[iban]
        fund = funds[holder.account.currency]
        entries.append(
            ledger.Entry(
                kind=EntryKind.interest,
                description=description,
                at=at,
                legs=ledger.funding_legs(holder, fund, amount, outside=fund.name),
            )
        )
    ledger.record_entries(session=session, entries=entries)
    return {"interest.paid": len(entries)}
