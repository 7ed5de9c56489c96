"""Enumerations in the database: a plain string column on every database."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Enum


def enum_column(enum_type: type[StrEnum], length: int = 20) -> Enum:
    """`VARCHAR(length)` holding the enum's values, read back as the enum.

    Not a native PostgreSQL `ENUM` type: SQLite has none, so the two databases would differ, and
    adding a value to one needs `ALTER TYPE` outside a transaction. The allowed values are a named
    CHECK constraint on the table instead, the same on both.
    """
    return Enum(
        enum_type,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [member.value for member in members],
    )
