from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from app.core.clock import UTCDateTime, utcnow


class RefreshToken(SQLModel, table=True):
    """One issued refresh token. Rotation marks it used; reuse of a used one revokes its family."""

    __tablename__ = "refresh_token"

    jti: str = Field(primary_key=True, max_length=32)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE", index=True)
    family: str = Field(max_length=32, index=True)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
