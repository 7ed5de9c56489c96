from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from app.core.clock import UTCDateTime, utcnow


class RefreshToken(SQLModel, table=True):
    """One issued refresh token of a session. Rotation marks it used; presenting a used one
    again revokes its session."""

    __tablename__ = "refresh_token"

    jti: str = Field(primary_key=True, max_length=32)
    session_id: str = Field(
        foreign_key="auth_session.id", ondelete="CASCADE", index=True, max_length=32
    )
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
