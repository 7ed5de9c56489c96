"""A page of a list that is paginated by keyset: newest first, continued with `before`."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, Field

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_before: str | None = Field(
        description="Pass as `before` to get the next (older) page; null on the last page"
    )
