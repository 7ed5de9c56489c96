"""Transfers between accounts at this bank: from one of the caller's, to anyone's."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import ColumnElement, or_
from sqlmodel import Session, col, select

from app.core.config import Settings
from app.core.identifiers import STORED_ID_MAX
from app.core.money import to_money
from app.core.pagination import encode_cursor, older_than
from app.errors import AccountNotFound, CurrencyMismatch, SameAccount, TransferNotFound
from app.models.account import Account
from app.models.journal_entry import EntryKind
from app.models.transfer import Transfer, TransferCreate, TransferPublic
from app.schemas.pagination import Page
from app.services import idempotency, ledger
from app.services.accounts import normalise_iban


def create(
    *,
    session: Session,
    settings: Settings,
    user_id: int,
    customer_id: uuid.UUID,
    data: TransferCreate,
    idempotency_key: str | None = None,
) -> idempotency.Outcome[TransferPublic]:
    """Move `data.amount` from the caller's account to another account of this bank, once."""
    source = normalise_iban(data.from_iban)
    target = normalise_iban(data.to_iban)
    if source == target:
        raise SameAccount()
    amount = to_money(data.amount)
    body = {
        "from_iban": source,
        "to_iban": target,
        "amount": str(amount),
        "currency": data.currency,
        "description": data.description,
    }

    def work(s: Session) -> TransferPublic:
        return _transfer(
            s,
            customer_id=customer_id,
            source=source,
            target=target,
            amount=amount,
            currency=data.currency,
            description=data.description,
        )

    return idempotency.execute(
        session=session,
        settings=settings,
        user_id=user_id,
        key=idempotency_key,
        fingerprint=idempotency.fingerprint(method="POST", path="/transfers", body=body),
        response_model=TransferPublic,
        work=work,
    )


def _transfer(
    session: Session,
    *,
    customer_id: uuid.UUID,
    source: str,
    target: str,
    amount: Decimal,
    currency: str,
    description: str,
) -> TransferPublic:
    locked = ledger.lock_accounts(session=session, ibans=[source, target])
    src = locked.get(source)
    if src is None or src.account.customer_id != customer_id:
        raise AccountNotFound(f"Account {source} not found")
    dst = locked.get(target)
    if dst is None:
        raise AccountNotFound(f"Destination account {target} not found")
    if src.account.currency != currency:
        raise CurrencyMismatch(
            f"Account {source} holds {src.account.currency}, not {currency} (no FX here)"
        )
    if dst.account.currency != currency:
        raise CurrencyMismatch(f"Destination account {target} does not hold {currency}")
    entry, _ = ledger.record_entry(
        session=session,
        kind=EntryKind.transfer,
        description=description,
        legs=[
            ledger.Leg(
                -amount,
                account=src.account,
                counterparty_iban=dst.iban,
                counterparty_name=dst.holder_name,
            ),
            ledger.Leg(
                amount,
                account=dst.account,
                counterparty_iban=src.iban,
                counterparty_name=src.holder_name,
            ),
        ],
    )
    transfer = Transfer(
        id=entry.id,
        from_account_id=src.account.id,
        to_account_id=dst.account.id,
        from_iban=src.iban,
        to_iban=dst.iban,
        amount=amount,
        currency=currency,
        description=description,
        created_at=entry.created_at,
    )
    session.add(transfer)
    session.flush()
    return TransferPublic.model_validate(transfer)


def _involving(customer_id: uuid.UUID) -> ColumnElement[bool]:
    own = select(Account.id).where(col(Account.customer_id) == customer_id)
    return or_(col(Transfer.from_account_id).in_(own), col(Transfer.to_account_id).in_(own))


def get(*, session: Session, customer_id: uuid.UUID, transfer_id: int) -> TransferPublic:
    """A transfer from or to one of the customer's accounts; 404 for any other."""
    if transfer_id > STORED_ID_MAX:
        raise TransferNotFound()
    transfer = session.exec(
        select(Transfer).where(col(Transfer.id) == transfer_id, _involving(customer_id))
    ).first()
    if transfer is None:
        raise TransferNotFound()
    return TransferPublic.model_validate(transfer)


def list_for_customer(
    *, session: Session, customer_id: uuid.UUID, limit: int, before: str | None = None
) -> Page[TransferPublic]:
    """Transfers from or to the customer's accounts, newest first, one keyset page."""
    statement = select(Transfer).where(_involving(customer_id))
    if before:
        statement = statement.where(older_than(col(Transfer.created_at), col(Transfer.id), before))
    rows = session.exec(
        statement.order_by(col(Transfer.created_at).desc(), col(Transfer.id).desc()).limit(
            limit + 1
        )
    ).all()
    page = rows[:limit]
    last = page[-1] if len(rows) > limit else None
    return Page[TransferPublic](
        items=[TransferPublic.model_validate(t) for t in page],
        next_before=encode_cursor(last.created_at, last.id) if last and last.id else None,
    )
