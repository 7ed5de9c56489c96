"""The sandbox's clock: the time every record of this bank is written at.

One row per bank database (so a snapshot, a restore and a fork carry their clock with them).
In `real` mode the clock is the wall clock plus an offset (what has been advanced, less the time
spent frozen); in `frozen` mode it stands at `frozen_at`. It only ever moves forward.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import ConfigDict, WithJsonSchema, field_validator, model_validator
from pydantic.json_schema import JsonDict
from sqlalchemy import BigInteger, CheckConstraint
from sqlmodel import Field, SQLModel

from app.core.clock import UTCDateTime

CLOCK_ROW_ID = 1
# The furthest one advance may go: a hundred years (far from the end of the calendar).
MAX_ADVANCE_DAYS = 36_500


class ClockMode(StrEnum):
    real = "real"
    frozen = "frozen"


class SandboxClock(SQLModel, table=True):
    __tablename__ = "sandbox_clock"
    __table_args__ = (CheckConstraint(f"id = {CLOCK_ROW_ID}", name="ck_sandbox_clock_one_row"),)

    id: int = Field(default=CLOCK_ROW_ID, primary_key=True)
    # Microseconds added to the wall clock in `real` mode (negative after a freeze).
    offset_us: int = Field(default=0, sa_type=BigInteger)
    frozen_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # How far what falls due has run: a month's interest, due at its end, runs once the clock
    # passes it after this (null until the first advance or background tick).
    due_through: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ClockPublic(SQLModel):
    now: datetime = Field(description="The sandbox's current time (UTC)")
    mode: ClockMode = Field(
        description="real: time flows with the wall clock (plus what was advanced); "
        "frozen: it stands still until advanced or unfrozen"
    )


# One way to say how far, in the schema as in the rule: `to`, or `days` and/or `hours`.
_TO: JsonDict = {"required": ["to"]}
_BY: JsonDict = {"anyOf": [{"required": ["days"]}, {"required": ["hours"]}]}


def _count(maximum: int) -> WithJsonSchema:
    """A whole number from 0 (the field may be left out, but not sent as null)."""
    return WithJsonSchema({"type": "integer", "minimum": 0, "maximum": maximum})


class ClockAdvance(SQLModel):
    """How far to move the clock: `days` and/or `hours`, or a moment `to`."""

    model_config = ConfigDict(  # type: ignore[assignment]
        json_schema_extra={
            "examples": [{"days": 30}, {"to": "2027-01-01T00:00:00Z"}],
            "oneOf": [{**_TO, "not": _BY}, {**_BY, "not": _TO}],
        }
    )

    days: Annotated[int | None, _count(MAX_ADVANCE_DAYS)] = Field(
        default=None, ge=0, le=MAX_ADVANCE_DAYS
    )
    hours: Annotated[int | None, _count(MAX_ADVANCE_DAYS * 24)] = Field(
        default=None, ge=0, le=MAX_ADVANCE_DAYS * 24
    )
    to: Annotated[datetime | None, WithJsonSchema({"type": "string", "format": "date-time"})] = (
        Field(
            default=None,
            description="A moment no earlier than the sandbox's now (UTC when it has no zone)",
        )
    )

    @field_validator("days", "hours", "to", mode="before")
    @classmethod
    def _given(cls, value: Any) -> Any:
        # Left out is fine; null is not a number of days, and neither is true or false.
        if value is None:
            raise ValueError("leave the field out instead of sending null")
        if isinstance(value, bool):
            raise ValueError("must be a whole number, not true or false")
        return value

    @model_validator(mode="after")
    def _one_way(self) -> ClockAdvance:
        by = self.days is not None or self.hours is not None
        if by and self.to is not None:
            raise ValueError("give either days and/or hours, or to, not both")
        if not by and self.to is None:
            raise ValueError("give days and/or hours, or to")
        return self


class ClockAdvanced(SQLModel):
    model_config = ConfigDict(populate_by_name=True)  # type: ignore[assignment]

    from_: datetime = Field(alias="from", description="The sandbox's time before the advance")
    to: datetime = Field(description="The sandbox's time after it")
    executed: dict[str, int] = Field(
        default_factory=dict,
        description="What fell due on the way and ran, in time order, counted by kind",
    )
