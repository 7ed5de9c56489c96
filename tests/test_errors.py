import pytest

from app import errors
from app.errors import AppError


def test_app_error_defaults() -> None:
    error = AppError()
    assert (error.message, error.status_code, error.headers) == ("Bad request", 400, None)
    assert str(error) == "Bad request"


def test_message_and_status_can_be_given() -> None:
    error = errors.Conflict("Currency EUR is in use", status_code=423)
    assert (error.message, error.status_code) == ("Currency EUR is in use", 423)
    assert errors.Conflict.status_code == 409  # the class default is untouched


@pytest.mark.parametrize(
    ("error_class", "status", "message"),
    [
        (errors.BadRequest, 400, "Bad request"),
        (errors.NotAuthenticated, 401, "Not authenticated"),
        (errors.InvalidCredentials, 401, "Invalid username or password"),
        (errors.InvalidToken, 401, "Invalid or expired token"),
        (errors.Forbidden, 403, "Not enough permissions"),
        (errors.CountryNotAllowed, 403, "Registration not allowed from this country"),
        (errors.NotFound, 404, "Not found"),
        (errors.CustomerNotFound, 404, "Customer not found"),
        (errors.AccountNotFound, 404, "Account not found"),
        (errors.Conflict, 409, "Conflict"),
        (errors.UsernameTaken, 409, "Username already exists"),
        (errors.AccountTypeExists, 409, "Customer already has an account of this type"),
        (errors.ValidationFailed, 422, "Validation failed"),
        (errors.UnsupportedCurrency, 422, "Currency is not supported"),
    ],
)
def test_domain_errors(error_class: type[AppError], status: int, message: str) -> None:
    error = error_class()
    assert isinstance(error, AppError)
    assert (error.status_code, error.message) == (status, message)
    if error_class is errors.InvalidToken:
        # A refused token says why, as RFC 6750 describes, so a client can tell its user.
        assert error.headers == {
            "WWW-Authenticate": f'Bearer error="invalid_token", error_description="{error.reason}"'
        }
    elif status == 401:
        assert error.headers == {"WWW-Authenticate": "Bearer"}
    else:
        assert error.headers is None
