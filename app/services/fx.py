"""Reference FX rates (admin-managed) and conversion of per-currency totals into one currency.

A rate row says: one unit of `base_currency` is worth `rate` units of `quote_currency`.
Converting X into T uses, in this order: the direct pair X/T, the inverse T/X, or a cross through
one intermediate currency P (X->P->T, each leg direct or inverse; the first P in alphabetical
order that has both legs). Derived rates are rounded to `DERIVED_RATE_PLACES` places and the same
rounded rate is both shown and used, so every converted total can be checked by hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.core.db import write_transaction
from app.core.money import to_money
from app.errors import FxRateMissing, FxRateNotFound, UnsupportedCurrency, ValidationFailed
from app.models.currency import Currency
from app.models.fx_rate import FxRate
from app.services import clock, reference

DERIVED_RATE_PLACES = 10
_DERIVED_QUANTUM = Decimal(1).scaleb(-DERIVED_RATE_PLACES)


def _pair(base: str, quote: str) -> tuple[str, str]:
    base_code, quote_code = base.strip().upper(), quote.strip().upper()
    if base_code == quote_code:
        raise ValidationFailed("Base and quote currency must differ")
    return base_code, quote_code


def list_rates(*, session: Session) -> Sequence[FxRate]:
    statement = select(FxRate).order_by(col(FxRate.base_currency), col(FxRate.quote_currency))
    return session.exec(statement).all()


def get_rate(*, session: Session, base: str, quote: str) -> FxRate:
    key = _pair(base, quote)
    rate = session.get(FxRate, key)
    if rate is None:
        raise FxRateNotFound(f"No FX rate for {key[0]}/{key[1]}")
    return rate


def set_rate(*, session: Session, base: str, quote: str, rate: Decimal) -> tuple[FxRate, bool]:
    """Create or replace the rate for a pair; `True` when it was created."""
    key = _pair(base, quote)
    with write_transaction(session):
        for code in key:
            if not reference.is_currency_supported(session=session, code=code):
                raise UnsupportedCurrency(f"Currency {code} is not supported")
        row = session.get(FxRate, key)
        created = row is None
        moment = clock.now(session)
        if row is None:
            row = FxRate(base_currency=key[0], quote_currency=key[1], rate=rate, updated_at=moment)
        else:
            row.rate = rate
            row.updated_at = moment
        session.add(row)
    return row, created


def delete_rate(*, session: Session, base: str, quote: str) -> None:
    with write_transaction(session):
        session.delete(get_rate(session=session, base=base, quote=quote))


def ensure_defaults(
    *, session: Session, rates: Mapping[str, Decimal], now: datetime | None = None
) -> int:
    """Insert the default rates when the table is empty (first start). Pairs with a currency
    that is not supported are left out. Returns how many rows were added."""
    added = 0
    with write_transaction(session):
        if session.exec(select(FxRate).limit(1)).first() is not None:
            return 0
        supported = set(session.exec(select(Currency.code)).all())
        for pair, rate in rates.items():
            base, _, quote = pair.partition("/")
            if base in supported and quote in supported:
                session.add(
                    FxRate(
                        base_currency=base,
                        quote_currency=quote,
                        rate=rate,
                        updated_at=now or clock.now(session),
                    )
                )
                added += 1
    return added


# Every rate, as plain rows (built once; a converter needs the three values, not entities).
_RATES = sa_select(col(FxRate.base_currency), col(FxRate.quote_currency), col(FxRate.rate))


@dataclass(frozen=True)
class Converter:
    """Converts amounts into `target` with the rates loaded once for a request."""

    target: str
    rates: Mapping[tuple[str, str], Decimal]

    @classmethod
    def load(cls, *, session: Session, target: str) -> Converter:
        """All rates in one statement; `target` must be a supported currency (else 422)."""
        code = target.strip().upper()
        if not reference.is_currency_supported(session=session, code=code):
            raise UnsupportedCurrency(f"Currency {code} is not supported")
        rows = session.connection().execute(_RATES)
        return cls(target=code, rates={(base, quote): rate for base, quote, rate in rows})

    def into(self, target: str) -> Converter:
        """The same rates, converting into another currency."""
        return replace(self, target=target)

    def _leg(self, source: str, target: str) -> Decimal | None:
        if source == target:
            return Decimal(1)
        direct = self.rates.get((source, target))
        if direct is not None:
            return direct
        inverse = self.rates.get((target, source))
        if inverse is not None:
            return (Decimal(1) / inverse).quantize(_DERIVED_QUANTUM, rounding=ROUND_HALF_EVEN)
        return None

    def rate(self, source: str) -> Decimal:
        """Units of `target` per unit of `source`; `FxRateMissing` (422) when there is no path."""
        leg = self._leg(source, self.target)
        if leg is not None:
            return leg
        pivots = sorted({code for pair in self.rates for code in pair} - {source, self.target})
        for pivot in pivots:
            first, second = self._leg(source, pivot), self._leg(pivot, self.target)
            if first is not None and second is not None:
                return (first * second).quantize(_DERIVED_QUANTUM, rounding=ROUND_HALF_EVEN)
        raise FxRateMissing(
            f"No FX rate to convert {source} into {self.target}; an admin can set one with "
            f"PUT /admin/fx-rates/{source}/{self.target}"
        )

    def rates_for(self, currencies: Iterable[str]) -> dict[str, Decimal]:
        return {code: self.rate(code) for code in sorted(set(currencies))}

    def total(self, amounts: Mapping[str, Decimal], rates: Mapping[str, Decimal]) -> Decimal:
        """The sum of per-currency amounts in `target`, rounded half-even to cents once, last."""
        exact = sum((amount * rates[code] for code, amount in amounts.items()), Decimal(0))
        return to_money(exact)
