from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from app.core.clock import UTCDateTime, utcnow


class AuthSession(SQLModel, table=True):
    """One logon: the chain of refresh tokens rotated from it and every access token they
    issued. Access tokens carry its id, and each request checks it is not revoked (logout, or
    a refresh token presented twice), so revoking it ends the whole session at once."""

    __tablename__ = "auth_session"

    id: str = Field(primary_key=True, max_length=32)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
