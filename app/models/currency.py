from __future__ import annotations

from sqlmodel import Field, SQLModel

from app.core.identifiers import CURRENCY_SCHEMA


class CurrencyBase(SQLModel):
    code: str = Field(min_length=3, max_length=3, description="ISO 4217 alphabetic code")


class Currency(CurrencyBase, table=True):
    code: str = Field(primary_key=True, min_length=3, max_length=3)
    name: str = Field(max_length=100)


class CurrencyCreate(SQLModel):
    code: str = Field(
        min_length=3,
        max_length=3,
        description="ISO 4217 alphabetic code",
        schema_extra={"examples": ["CHF"], "json_schema_extra": CURRENCY_SCHEMA},
    )


class CurrencyPublic(CurrencyBase):
    name: str
