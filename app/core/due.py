"""What falls due as a sandbox's clock passes, of every kind (scheduled transfers, standing
orders' occurrences), run in time order: each kind lists its items with their moment, the
clock's advance sorts them all and runs them one by one in its unit of work."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

# Runs the item in the caller's unit of work; answers what happened, counted by kind
# ({"transfer.completed": 1}; a monthly interest run: {"interest.paid": <accounts paid>}).
Run = Callable[[], Mapping[str, int]]


@dataclass(frozen=True)
class Due:
    at: datetime
    rank: tuple[int, int]  # ties at one moment: the kind's rank, then the row's id
    run: Run

    def key(self) -> tuple[datetime, tuple[int, int]]:
        return self.at, self.rank


def day_start(day: date) -> datetime:
    """The moment a date-based item falls due: the start of its day, UTC."""
    return datetime.combine(day, time(), UTC)


def first_of_next_month(day: date) -> date:
    """The first day of the month after `day`'s (ValueError past the end of the calendar)."""
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def due_at(day: date, start: datetime) -> datetime:
    """When an item due on `day` runs in an advance from `start`: at its day's start, or at
    `start` when that day began before it."""
    return max(start, day_start(day))


def run_in_order(items: Iterable[Due]) -> Counter[str]:
    """Run every item in time order; how many of each outcome."""
    ran: Counter[str] = Counter()
    for item in sorted(items, key=Due.key):
        ran.update(item.run())
    return ran
