"""Domain errors. Services raise these; one handler in `app.main` turns them into JSON."""

from __future__ import annotations

import math


class AppError(Exception):
    """A failure the caller can act on: `{"detail": message}` with `status_code`."""

    status_code: int = 400
    message: str = "Bad request"
    headers: dict[str, str] | None = None

    def __init__(
        self,
        message: str | None = None,
        status_code: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.message
        if status_code is not None:
            self.status_code = status_code
        if headers is not None:
            self.headers = {**(self.headers or {}), **headers}
        super().__init__(self.message)


class BadRequest(AppError):
    status_code = 400
    message = "Bad request"


class NotAuthenticated(AppError):
    status_code = 401
    message = "Not authenticated"
    headers = {"WWW-Authenticate": "Bearer"}


class InvalidCredentials(NotAuthenticated):
    message = "Invalid username or password"


class InvalidToken(NotAuthenticated):
    """A bearer token or API key that is refused. `reason` says why (expired, revoked, unknown,
    malformed) in the `WWW-Authenticate` header's `error_description` (RFC 6750), so a client
    such as an MCP host can tell its user what to do."""

    message = "Invalid or expired token"
    reason = "The token is malformed or was not issued by this server"

    def __init__(self, message: str | None = None, *, reason: str | None = None) -> None:
        self.reason = reason or self.reason
        challenge = f'Bearer error="invalid_token", error_description="{self.reason}"'
        super().__init__(message, headers={"WWW-Authenticate": challenge})


class TokenExpired(InvalidToken):
    reason = "The token has expired: log on again or refresh it"


class SessionEnded(InvalidToken):
    reason = "The token's session has ended (logout, or a refresh token presented twice)"


class WrongSandbox(InvalidToken):
    reason = (
        "The credential belongs to another sandbox: send the OpenBank-Sandbox header of the "
        "sandbox that issued it"
    )


class TokenUnknown(InvalidToken):
    reason = "The token names no live user or session of this bank"


class ApiKeyUnknown(InvalidToken):
    reason = "Unknown API key"


class ApiKeyRevoked(InvalidToken):
    reason = "The API key has been revoked"


class ApiKeyExpired(InvalidToken):
    reason = "The API key has expired"


class Forbidden(AppError):
    status_code = 403
    message = "Not enough permissions"


class CountryNotAllowed(Forbidden):
    message = "Registration not allowed from this country"


class NotFound(AppError):
    status_code = 404
    message = "Not found"


class CustomerNotFound(NotFound):
    message = "Customer not found"

    @classmethod
    def for_oid(cls, customer_oid: object) -> CustomerNotFound:
        """The 002 wording; the same body whether the customer is absent or not the caller's."""
        return cls(f"Customer with CustomerOID '{customer_oid}' not found")


class AccountNotFound(NotFound):
    message = "Account not found"


class TransferNotFound(NotFound):
    message = "Transfer not found"


class Conflict(AppError):
    status_code = 409
    message = "Conflict"


class UsernameTaken(Conflict):
    message = "Username already exists"


class InterestRateNotFound(NotFound):
    message = "Interest rate not found"


class StandingOrderNotFound(NotFound):
    message = "Standing order not found"


class StandingOrderNotActive(Conflict):
    message = "Only an active standing order can be cancelled"


class CardPaymentNotFound(NotFound):
    message = "Card payment not found"


class CardPaymentNotHeld(Conflict):
    message = "Only a held card payment can be settled or released"


class PersonaNotFound(NotFound):
    message = "Persona not found"


class PersonaExists(Conflict):
    message = "The customer has a persona already"


class NoCheckingAccount(Conflict):
    message = "The customer has no checking account at this bank"


class TransferNotCancellable(Conflict):
    message = "Only a scheduled transfer can be cancelled"


class AccountTypeExists(Conflict):
    message = "Customer already has an account of this type"


class ValidationFailed(AppError):
    status_code = 422
    message = "Validation failed"


class ClockCannotGoBack(Conflict):
    message = (
        "The sandbox's clock only moves forward: to go back in time, restore a snapshot "
        "taken earlier (POST /sandboxes/{sandbox_id}/restore)"
    )


class ClockOutOfRange(Conflict):
    message = "The sandbox's clock cannot move that far from where it is"


class UnsupportedCurrency(ValidationFailed):
    message = "Currency is not supported"


class InvalidCustomerOid(BadRequest):
    message = "Invalid CustomerOID format"


class FxRateNotFound(NotFound):
    message = "FX rate not found"


class CustomerExists(Conflict):
    message = "Customer already exists"


class FxRateMissing(ValidationFailed):
    message = "No FX rate for a currency in the data"


class InvalidIban(ValidationFailed):
    message = "Invalid IBAN"


class MalformedIban(BadRequest):
    """An IBAN in the path (an identifier) that is not a valid IBAN."""

    message = "Invalid IBAN"


class MalformedCursor(BadRequest):
    message = "Malformed pagination cursor"


class InsufficientFunds(ValidationFailed):
    message = "Insufficient funds"


class CurrencyMismatch(ValidationFailed):
    message = "Currency does not match the account"


class SameAccount(ValidationFailed):
    message = "Source and destination are the same account"


class InvalidPeriod(ValidationFailed):
    message = "'from' must not be after 'to'"


class IdempotencyKeyReused(ValidationFailed):
    message = "This Idempotency-Key was already used with a different request"


class TooManyRequests(AppError):
    """429 with `Retry-After`: the seconds until the caller may try again (at least 1)."""

    status_code = 429
    message = "Too many requests, try again later"

    def __init__(self, message: str | None = None, *, retry_after: float) -> None:
        super().__init__(message, headers={"Retry-After": str(max(1, math.ceil(retry_after)))})


class TooManyLogonAttempts(TooManyRequests):
    message = "Too many failed logon attempts, try again later"


class TooManyRegistrations(TooManyRequests):
    message = "Too many registrations from this address, try again later"


class ServiceBusy(AppError):
    status_code = 503
    message = "Service busy, try again later"
    headers = {"Retry-After": "1"}


class PasswordCheckBusy(ServiceBusy):
    message = "Too many logons at once, try again in a moment"


class ApiKeyNotFound(NotFound):
    message = "API key not found"


class TooManyApiKeys(Conflict):
    message = "Too many API keys: delete one you no longer use first"


class SandboxNotFound(NotFound):
    message = "Sandbox not found"

    @classmethod
    def for_id(cls, sandbox_id: str) -> SandboxNotFound:
        return cls(f"Sandbox {sandbox_id} not found")


class MalformedSandboxId(BadRequest):
    message = (
        "Malformed OpenBank-Sandbox header: expected a sandbox id such as sbx_abcdefghijklmnop"
    )


class SnapshotNotFound(NotFound):
    message = "Snapshot not found"


class SnapshotExists(Conflict):
    message = "A snapshot of this sandbox with that name already exists"


class TooManySandboxes(AppError):
    status_code = 429
    message = "Too many live sandboxes on this server: delete one first (SANDBOX_MAX_LIVE)"


class SandboxForbidden(Forbidden):
    message = "Only an admin of the default sandbox may create sandboxes on this server"


class SandboxBusy(ServiceBusy):
    message = "The sandbox is being restored, try again in a moment"
