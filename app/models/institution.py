from __future__ import annotations

from enum import StrEnum

from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from app.core.enums import enum_column


class InstitutionType(StrEnum):
    bank = "bank"
    broker = "broker"
    exchange = "exchange"


class InstitutionBase(SQLModel):
    name: str = Field(max_length=200)
    institution_type: InstitutionType = Field(default=InstitutionType.bank, max_length=20)
    bic: str | None = Field(default=None, max_length=11)
    routing_number: str | None = Field(default=None, max_length=20)
    country: str | None = Field(default=None, max_length=2)


class Institution(InstitutionBase, table=True):
    __table_args__ = (
        CheckConstraint(
            "institution_type IN ('bank', 'broker', 'exchange')", name="ck_institution_type"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    institution_type: InstitutionType = Field(
        default=InstitutionType.bank, sa_type=enum_column(InstitutionType)
    )
    name: str = Field(max_length=200, unique=True)
    is_own_bank: bool = Field(default=False)


class InstitutionPublic(InstitutionBase):
    id: int
