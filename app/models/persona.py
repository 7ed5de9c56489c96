"""Personas: a customer's life in the sandbox (salaried, student, freelancer, retiree, small
business), lived day by day on their checking account as the sandbox's clock passes."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint
from sqlmodel import Field, SQLModel

from app.core.clock import UTCDateTime
from app.core.enums import enum_column

SEED_MAX = 2**31 - 1


class PersonaKind(StrEnum):
    salaried = "salaried"
    student = "student"
    freelancer = "freelancer"
    retiree = "retiree"
    small_business = "small_business"


class Persona(SQLModel, table=True):
    __tablename__ = "persona"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('salaried', 'student', 'freelancer', 'retiree', 'small_business')",
            name="ck_persona_kind",
        ),
    )

    customer_id: uuid.UUID = Field(foreign_key="customer.id", ondelete="CASCADE", primary_key=True)
    kind: PersonaKind = Field(sa_type=enum_column(PersonaKind))
    account_id: int = Field(foreign_key="account.id", ondelete="CASCADE", index=True)
    seed: int = Field(sa_type=BigInteger)
    started_on: date
    # The next day to live (its events are written when the day is over).
    next_on: date = Field(index=True)
    created_at: datetime = Field(sa_type=UTCDateTime)


class PersonaCreate(SQLModel):
    customer_oid: uuid.UUID = Field(description="A customer with a checking account at this bank")
    persona: PersonaKind = Field(
        description="salaried: a monthly salary, rent, bills, subscriptions and card spending; "
        "student: an allowance and a part-time wage, a room, small spending; freelancer: "
        "invoices paid now and then; retiree: a pension; small_business: daily card-terminal "
        "takings, suppliers and a shop's rent"
    )
    seed: int = Field(
        default=42,
        ge=0,
        le=SEED_MAX,
        description="With the customer, decides every amount, merchant and day: the same seed "
        "gives the same life (42, as a sandbox's default seed)",
    )
    start_on: date | None = Field(
        default=None,
        description="The first day lived (the sandbox's today or later; default: tomorrow)",
    )


class PersonaPublic(SQLModel):
    customer_oid: uuid.UUID
    persona: PersonaKind
    iban: str = Field(description="The checking account the life runs on")
    seed: int
    started_on: date
    next_on: date = Field(description="The next day to be lived, once it is over")
    created_at: datetime
