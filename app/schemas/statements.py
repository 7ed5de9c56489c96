"""A page of an account's statement: its lines, with the account's balances and pending items."""

from __future__ import annotations

from pydantic import Field

from app.core.money import MoneyOut
from app.models.card_payment import CardPaymentPublic
from app.models.posting import PostingPublic
from app.schemas.pagination import Page


class StatementPage(Page[PostingPublic]):
    balance: MoneyOut = Field(description="The booked balance: the sum of the account's postings")
    available_balance: MoneyOut = Field(
        description="What can be spent: the booked balance less the card payments still held"
    )
    pending: list[CardPaymentPublic] = Field(
        description="Card payments held on the account, not booked yet (no statement line until "
        "they post), oldest first"
    )
