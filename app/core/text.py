"""Free-text input types, one definition each: names must be something a person can read."""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, Field

NAME_MIN_LENGTH = 2
NAME_MAX_LENGTH = 100

# Free text (an address, a description) is stored as given, but for NUL (U+0000), which
# PostgreSQL cannot store in text: refused by this pattern on every database alike, and the
# schema says so.
NO_NUL_PATTERN = r"^[^\x00]*$"


def is_visible(character: str) -> bool:
    """A letter, mark, digit, punctuation or symbol: not a space, separator, control or format
    character (NUL, tab, zero-width space...), surrogate, private-use or unassigned one."""
    return unicodedata.category(character)[0] not in "ZC"


def _check_name(value: str) -> str:
    name = value.strip()
    if any(unicodedata.category(c) == "Cc" for c in name):
        raise ValueError("must not contain control characters")
    if not any(is_visible(c) for c in name):
        raise ValueError("must contain a visible character")
    if len(name) < NAME_MIN_LENGTH:
        raise ValueError(f"must have at least {NAME_MIN_LENGTH} characters")
    return name


# A person's or a company's name: surrounding whitespace is stripped; what is left has 2 to 100
# characters, at least one visible, and no control characters (NUL, tabs, line breaks).
Name = Annotated[
    str,
    Field(min_length=NAME_MIN_LENGTH, max_length=NAME_MAX_LENGTH),
    AfterValidator(_check_name),
]
