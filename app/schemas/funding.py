"""Sandbox funding: an admin puts money into (or takes it out of) an account at this bank."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, field_validator

from app.core.money import MoneyOut, PositiveAmount
from app.core.text import NO_NUL_PATTERN
from app.models.journal_entry import DESCRIPTION_MAX, EntryKind


class FundingRequest(BaseModel):
    amount: PositiveAmount
    description: str = Field(
        default="", max_length=DESCRIPTION_MAX, pattern=NO_NUL_PATTERN, examples=["Sandbox top-up"]
    )

    @field_validator("description")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()


class FundingPublic(BaseModel):
    """The journal entry of a deposit or withdrawal, with the account's balance after it."""

    id: int = Field(description="The journal entry")
    kind: EntryKind
    iban: str
    amount: MoneyOut
    currency: str
    balance: MoneyOut = Field(description="The account's balance after this movement")
    description: str
    created_at: datetime
