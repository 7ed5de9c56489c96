"""Names: something a person can read, never only whitespace, control or invisible characters."""

import pytest
from pydantic import BaseModel, ValidationError

from app.core.text import Name


class Named(BaseModel):
    name: Name


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("Jo", "Jo"),
        ("  Jane Doe  ", "Jane Doe"),
        ("José Ñúñez", "José Ñúñez"),
        ("李雷", "李雷"),
        ("O'Brien-Smith", "O'Brien-Smith"),
        ("ABC Corporation", "ABC Corporation"),
        ("x" * 100, "x" * 100),
    ],
)
def test_names_people_write_are_kept_stripped(given: str, kept: str) -> None:
    assert Named(name=given).name == kept


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("\x00", "at least 2 characters"),
        ("\x00\x00\x00", "control characters"),
        ("Jane\x00Doe", "control characters"),
        ("Jane\tDoe", "control characters"),
        ("Jane\nDoe", "control characters"),
        ("     ", "visible character"),
        ("\u200b\u200b\u200b", "visible character"),  # zero-width spaces
        ("\u00a0\u3000\u2003", "visible character"),  # no-break, ideographic and em spaces
        ("\u202e\u202d", "visible character"),  # bidirectional overrides
        (" J ", "at least 2 characters"),
        ("x" * 101, "at most 100 characters"),
    ],
)
def test_names_without_a_visible_character_are_refused(given: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Named(name=given)


def test_the_schema_shows_the_lengths() -> None:
    schema = Named.model_json_schema()["properties"]["name"]
    assert (schema["type"], schema["minLength"], schema["maxLength"]) == ("string", 2, 100)
