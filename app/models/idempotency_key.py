from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.clock import UTCDateTime, utcnow

IDEMPOTENCY_KEY_MAX = 255


class IdempotencyKey(SQLModel, table=True):
    """A request made with an `Idempotency-Key`, scoped to the user, and the response it got.

    The row is written in the same unit of work as the money it moved, so both exist or neither.
    The response columns are filled before that unit of work commits; a committed row always has
    them.
    """

    __tablename__ = "idempotency_key"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotency_key_user_key"),)

    id: int | None = Field(default=None, primary_key=True)
    # The unique (user_id, key) index also serves lookups by user.
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE")
    key: str = Field(max_length=IDEMPOTENCY_KEY_MAX)
    fingerprint: str = Field(max_length=64, description="sha256 of method, path and body")
    response_status: int | None = None
    response_body: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
