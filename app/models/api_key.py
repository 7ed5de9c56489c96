from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from app.core.clock import UTCDateTime, utcnow
from app.core.text import NAME_MAX_LENGTH, Name
from app.models.user import Role

API_KEY_PREFIX = "obk_"


class ApiKeyBase(SQLModel):
    name: str = Field(max_length=NAME_MAX_LENGTH)


class ApiKey(ApiKeyBase, table=True):
    """A long-lived credential of one user, for agents and CI. Only a hash of the key is kept:
    the key has 256 random bits, so a fast hash (`hash_scheme`) is as safe as a slow one."""

    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE", index=True)
    prefix: str = Field(max_length=40, description="The key's first characters, to recognise it")
    key_hash: str = Field(max_length=64, unique=True)
    hash_scheme: str = Field(default="sha256", max_length=20)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ApiKeyCreate(SQLModel):
    name: Name = Field(schema_extra={"examples": ["ci pipeline"]})
    expires_in_days: int | None = Field(
        default=None,
        ge=1,
        le=36500,
        description="Days until the key stops working (at most API_KEY_MAX_DAYS); null: never",
        schema_extra={"examples": [90]},
    )


class ApiKeyPublic(ApiKeyBase):
    id: int
    prefix: str = Field(description="The key's first characters, to recognise it")
    role: Role = Field(description="The role the key acts with: its owner's")
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None = Field(
        description="Last request made with the key (to the minute); null: never used"
    )


class ApiKeyCreated(ApiKeyPublic):
    key: str = Field(
        description="The key itself: shown only this once, store it now. Send it as "
        "`Authorization: Bearer obk_...`"
    )
