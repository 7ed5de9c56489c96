"""Institutions: this bank and the others whose accounts customers aggregate."""

from __future__ import annotations

from sqlmodel import Session, select

from app.core.config import Settings
from app.models.institution import Institution, InstitutionType


def get_own_bank(*, session: Session) -> Institution:
    bank = session.exec(select(Institution).where(Institution.is_own_bank)).first()
    if bank is None:  # pragma: no cover - created at start-up
        raise RuntimeError("the bank's own institution row is missing; restart the app")
    return bank


def ensure_own_bank(*, session: Session, settings: Settings) -> Institution:
    """Create the row for this bank on first start (caller commits)."""
    bank = session.exec(select(Institution).where(Institution.is_own_bank)).first()
    if bank is None:
        bank = Institution(
            name=settings.bank_name,
            institution_type=InstitutionType.bank,
            bic=settings.bank_bic,
            country=settings.bank_country,
            is_own_bank=True,
        )
        session.add(bank)
        session.flush()
    return bank
