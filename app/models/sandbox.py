"""Sandboxes: isolated banks, each a database of its own, and their snapshots.

The registry (these two tables) lives in the default sandbox's database, the server's own.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, StringConstraints, field_validator
from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from app.core.clock import UTCDateTime, utcnow
from app.core.enums import enum_column
from app.core.sandbox_context import SANDBOX_ID_PATTERN
from app.core.text import NAME_MAX_LENGTH, Name

SNAPSHOT_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$"
SandboxIdText = Annotated[str, StringConstraints(pattern=SANDBOX_ID_PATTERN)]
SnapshotName = Annotated[str, StringConstraints(pattern=SNAPSHOT_NAME_PATTERN)]


class SandboxTemplate(StrEnum):
    empty = "empty"
    demo = "demo"


class Sandbox(SQLModel, table=True):
    __table_args__ = (CheckConstraint("template IN ('empty', 'demo')", name="ck_sandbox_template"),)

    id: str = Field(primary_key=True, max_length=20)
    name: str | None = Field(default=None, max_length=NAME_MAX_LENGTH)
    template: SandboxTemplate = Field(sa_type=enum_column(SandboxTemplate))
    seed: int
    customers: int
    # The sandbox it was forked from, if any (kept as text: the source may be gone).
    forked_from: str | None = Field(default=None, max_length=20)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)


class SandboxSnapshot(SQLModel, table=True):
    __tablename__ = "sandbox_snapshot"

    sandbox_id: str = Field(
        primary_key=True, foreign_key="sandbox.id", ondelete="CASCADE", max_length=20
    )
    name: str = Field(primary_key=True, max_length=63)
    # Names the snapshot's database in storage (user-chosen names stay out of file names).
    storage_key: str = Field(max_length=16, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ForkSource(SQLModel):
    sandbox_id: SandboxIdText = Field(schema_extra={"examples": ["sbx_abcdefghijklmnop"]})
    snapshot: SnapshotName | None = Field(
        default=None,
        description="Fork from this snapshot of the sandbox; default: its current state",
    )


class SandboxCreate(SQLModel):
    model_config = ConfigDict(populate_by_name=True)  # type: ignore[assignment]

    name: Name | None = Field(default=None, schema_extra={"examples": ["checkout tests"]})
    template: SandboxTemplate = Field(
        default=SandboxTemplate.demo,
        description="demo: the sample customers of the portfolio-analysis API plus `customers` "
        "generated ones; empty: reference data and the two staff logins only",
    )
    seed: int = Field(default=42, ge=0, le=2**31 - 1, description="Random seed of `demo`")
    customers: int = Field(
        default=20,
        ge=0,
        description="Generated customers of `demo` (at most SANDBOX_MAX_CUSTOMERS)",
    )
    ttl_hours: int | None = Field(
        default=None,
        ge=1,
        description="Hours until the sandbox is removed (default SANDBOX_DEFAULT_TTL_HOURS, at "
        "most SANDBOX_MAX_TTL_HOURS)",
    )
    from_: ForkSource | None = Field(
        default=None,
        alias="from",
        description="Fork: a copy of this sandbox (or of one of its snapshots), with new staff "
        "credentials; `template`, `seed` and `customers` are then the source's",
    )

    @field_validator("seed", "customers", "ttl_hours", mode="before")
    @classmethod
    def _not_a_boolean(cls, value: object) -> object:
        # A JSON integer (2.0 is one, as JSON Schema says); `false` is not.
        if isinstance(value, bool):
            raise ValueError("must be an integer, not true or false")
        return value


class SandboxPublic(SQLModel):
    sandbox_id: str
    name: str | None
    template: SandboxTemplate
    seed: int
    customers: int
    forked_from: str | None
    created_at: datetime
    expires_at: datetime


class Login(SQLModel):
    username: str
    password: str


class StaffCredentials(SQLModel):
    admin: Login
    analyst: Login


class SandboxCreated(SandboxPublic):
    credentials: StaffCredentials = Field(
        description="The sandbox's staff logins: shown only this once"
    )
    customer_password: str | None = Field(
        description="The password of every seeded customer of the sandbox (demo); shown only "
        "this once"
    )


class SnapshotCreate(SQLModel):
    name: SnapshotName = Field(schema_extra={"examples": ["before-checkout"]})


class SnapshotPublic(SQLModel):
    name: str
    created_at: datetime


class RestoreRequest(SQLModel):
    snapshot: SnapshotName
