"""Reference data and staff: institutions, currencies, countries, FX rates, interest rates and
the demo admin and analyst."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from app.core.config import Settings
from app.core.db import write_transaction
from app.models.currency import Currency
from app.models.fx_rate import FxRate
from app.models.institution import Institution, InstitutionType
from app.models.user import Role
from app.seeding.common import (
    DEMO_ADMIN,
    DEMO_ANALYST,
    SEED_CURRENCIES,
    SEED_NOW,
    seeded_password_hash,
    seeded_uid,
)
from app.services import fx, institutions, interest, reference, users

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
