"""Sandbox funding: deposits into and withdrawals from accounts at this bank, against the bank's
funding account for the currency, so the ledger stays balanced."""

from __future__ import annotations

from decimal import Decimal

from sqlmodel import Session

from app.core.config import Settings
from app.core.money import to_money
from app.errors import AccountNotFound
from app.models.journal_entry import EntryKind
from app.schemas.funding import FundingPublic, FundingRequest
from app.services import idempotency, ledger


def deposit(
    *,
    session: Session,
    settings: Settings,
    user_id: int,
    iban: str,
    data: FundingRequest,
    idempotency_key: str | None = None,
) -> idempotency.Outcome[FundingPublic]:
    """Put money into the account with this (compact) IBAN."""
    return _move(session, settings, EntryKind.deposit, user_id, iban, data, idempotency_key)


def withdraw(
    *,
    session: Session,
    settings: Settings,
    user_id: int,
    iban: str,
    data: FundingRequest,
    idempotency_key: str | None = None,
) -> idempotency.Outcome[FundingPublic]:
    """Take money out of the account with this (compact) IBAN; never below zero."""
    return _move(session, settings, EntryKind.withdrawal, user_id, iban, data, idempotency_key)


def _move(
    session: Session,
    settings: Settings,
    kind: EntryKind,
    user_id: int,
    iban: str,
    data: FundingRequest,
    key: str | None,
) -> idempotency.Outcome[FundingPublic]:
    amount = to_money(data.amount)
    path = f"/admin/accounts/{iban}/{'deposit' if kind == EntryKind.deposit else 'withdraw'}"
    body = {"amount": str(amount), "description": data.description}

    def work(s: Session) -> FundingPublic:
        return _record(s, kind, iban, amount, data.description)

    return idempotency.execute(
        session=session,
        settings=settings,
        user_id=user_id,
        key=key,
        fingerprint=idempotency.fingerprint(method="POST", path=path, body=body),
        response_model=FundingPublic,
        work=work,
    )


def _record(
    session: Session, kind: EntryKind, iban: str, amount: Decimal, description: str
) -> FundingPublic:
    locked = ledger.lock_accounts(session=session, ibans=[iban]).get(iban)
    if locked is None:
        raise AccountNotFound(f"Account {iban} not found")
    account = locked.account
    entry = ledger.funding_entry(
        session=session, kind=kind, locked=locked, amount=amount, description=description
    )
    assert entry.id is not None
    return FundingPublic(
        id=entry.id,
        kind=kind,
        iban=locked.iban,
        amount=amount,
        currency=account.currency,
        balance=account.balance,
        description=description,
        created_at=entry.created_at,
    )
