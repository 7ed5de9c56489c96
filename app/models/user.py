from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from app.core.clock import UTCDateTime, utcnow
from app.core.enums import enum_column


class Role(StrEnum):
    customer = "customer"
    analyst = "analyst"
    admin = "admin"


class User(SQLModel, table=True):
    """A login. Its password hash never leaves the service layer: no public model has it.

    Tokens name a user by `uid`, a random UUID made with the user and never given to another
    one; `id` is only the key other rows refer to (SQLite may hand a deleted row's id out
    again)."""

    __table_args__ = (
        CheckConstraint("role IN ('customer', 'analyst', 'admin')", name="ck_user_role"),
        CheckConstraint(
            "role <> 'customer' OR customer_id IS NOT NULL", name="ck_user_customer_link"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    uid: uuid.UUID = Field(default_factory=uuid.uuid4, unique=True)
    # Stored in lower case: usernames are unique ignoring case.
    username: str = Field(max_length=20, unique=True)
    password_hash: str = Field(max_length=100)
    role: Role = Field(default=Role.customer, sa_type=enum_column(Role))
    customer_id: uuid.UUID | None = Field(
        default=None, foreign_key="customer.id", ondelete="CASCADE", index=True
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class UserPublic(SQLModel):
    username: str
    role: Role
    customer_oid: uuid.UUID | None = None
