from __future__ import annotations

from sqlmodel import Field, SQLModel

from app.core.identifiers import COUNTRY_SCHEMA


class AllowedCountryBase(SQLModel):
    iso_code: str = Field(min_length=2, max_length=2, description="ISO 3166-1 alpha-2 code")


class AllowedCountry(AllowedCountryBase, table=True):
    __tablename__ = "allowed_country"

    iso_code: str = Field(primary_key=True, min_length=2, max_length=2)
    name: str = Field(max_length=100)


class AllowedCountryCreate(SQLModel):
    iso_code: str = Field(
        min_length=2,
        max_length=2,
        description="ISO 3166-1 alpha-2 code",
        schema_extra={"examples": ["FR"], "json_schema_extra": COUNTRY_SCHEMA},
    )


class AllowedCountryPublic(AllowedCountryBase):
    name: str
