"""The password rule, one definition for every password the bank accepts: a customer's at
registration and the bootstrap admin's (`ADMIN_PASSWORD`).

At least 12 characters, at most 72 bytes in UTF-8: bcrypt reads no further than 72 bytes, so a
longer password would be cut silently.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, TypeAdapter, ValidationError

PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_BYTES = 72
PASSWORD_RULE = f"{PASSWORD_MIN_LENGTH} to {PASSWORD_MAX_BYTES} bytes in UTF-8"


def _fits_bcrypt(value: str) -> str:
    if len(value.encode()) > PASSWORD_MAX_BYTES:
        raise ValueError(f"password must be at most {PASSWORD_MAX_BYTES} bytes in UTF-8")
    return value


Password = Annotated[str, Field(min_length=PASSWORD_MIN_LENGTH), AfterValidator(_fits_bcrypt)]

_password = TypeAdapter(Password)


def password_problem(value: str) -> str | None:
    """Why `value` breaks the password rule, or None when it follows it."""
    try:
        _password.validate_python(value)
    except ValidationError as exc:
        # The messages only: an error's input is the password itself.
        messages = (error["msg"].removeprefix("Value error, ") for error in exc.errors())
        return "; ".join(messages)
    return None
