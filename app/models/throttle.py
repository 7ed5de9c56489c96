from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from app.core.clock import UTCDateTime
from app.core.enums import enum_column


class ThrottleScope(StrEnum):
    logon_account = "logon_account"
    logon_address = "logon_address"
    registration_address = "registration_address"


_SCOPES_SQL = ", ".join(f"'{s.value}'" for s in ThrottleScope)


class Throttle(SQLModel, table=True):
    """Attempts counted against one account or client address, shared by every worker and host
    through the database. `subject` is the sha256 of the normalised username or address, so
    the table holds neither."""

    __table_args__ = (
        CheckConstraint(f"scope IN ({_SCOPES_SQL})", name="ck_throttle_scope"),
        CheckConstraint("attempts >= 0", name="ck_throttle_attempts"),
    )

    scope: ThrottleScope = Field(primary_key=True, sa_type=enum_column(ThrottleScope, 30))
    subject: str = Field(primary_key=True, max_length=64)
    attempts: int = 0
    window_started_at: datetime = Field(sa_type=UTCDateTime)
    blocked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
