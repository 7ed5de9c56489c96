"""Dependencies as `Annotated` aliases: settings, session, the caller and their role."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, TypeVar

from fastapi import Depends, Header, Path, Request, Response
from fastapi.security import HTTPBearer, OAuth2PasswordBearer
from pydantic import BaseModel
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.api.openapi import authenticated_by, raises
from app.core.config import Settings
from app.core.db import request_session
from app.core.identifiers import (
    COUNTRY_PATTERN,
    CURRENCY_PATTERN,
    IBAN_PATH_PATTERN,
    ID_MAX,
    ID_MIN,
    UUID_PATTERN,
    parse_id,
)
from app.core.sandbox_context import (
    current_sandbox,
    current_sandbox_id,
)
from app.core.security import bearer_token
from app.errors import (
    AccountNotFound,
    BadRequest,
    CustomerNotFound,
    Forbidden,
    InvalidCustomerOid,
    MalformedIban,
    NotAuthenticated,
    ServiceBusy,
)
from app.models.account import Account
from app.models.idempotency_key import IDEMPOTENCY_KEY_MAX
from app.models.user import Role, User
from app.services import accounts, auth, customers
from app.services.idempotency import Outcome
from app.services.sandboxes import Caller, SandboxHub

# Two ways to send the same `Authorization: Bearer ...` header, both offered by Swagger UI's
# Authorize: an access token from the password flow, or an API key (`obk_...`). They describe
# the header in the OpenAPI document (`authenticated_by`); the header is read by
# `bearer_token`, not by solving them as dependencies on every request.
oauth2_scheme = OAuth2PasswordBearer(
    tokenUrl="/auth/logon",
    auto_error=False,
    description="Log on with a username and password; the access token is sent for you",
)
api_key_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="APIKey",
    bearerFormat="obk_...",
    description="An API key from POST /auth/api-keys (or an access token), as a Bearer token",
)

# On responses that carry a token, a password or a key: no cache may keep them.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


# Dependencies that do no blocking I/O are `async def`: FastAPI runs a plain `def` on a worker
# thread, a hop that costs more than most of them do. Those that query the database are plain
# functions, one hop each.


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@raises(ServiceBusy)  # the database is down, or every connection stayed busy
async def get_engine(request: Request) -> Engine:
    """The engine of the request's sandbox (the default one's without the header)."""
    context = current_sandbox()
    if context is not None:
        return context.engine
    engine: Engine = request.app.state.engine
    return engine


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]


async def get_session(engine: EngineDep) -> AsyncIterator[Session]:
    """The request's session, for plain `def` routes and their dependencies (an `async def`
    route's `in_worker_thread` opens its own on its thread). Each step that queries the
    database runs on a worker thread and ends its read there (dependencies here, endpoints in
    `app.api.routing`): a request never holds a pooled connection while it waits for a thread,
    so requests waiting for a connection cannot take every thread while those holding one wait
    for a thread."""
    async with request_session(engine) as session:
        yield session


async def get_sandbox_hub(request: Request) -> SandboxHub:
    hub: SandboxHub = request.app.state.sandboxes
    return hub


async def get_client_address(request: Request) -> str | None:
    """The client's address: the socket's, or the one a proxy that uvicorn was told to trust
    (`--forwarded-allow-ips`) forwarded; throttling counts per address."""
    return request.client.host if request.client else None


ClientAddress = Annotated[str | None, Depends(get_client_address)]
SessionDep = Annotated[Session, Depends(get_session)]


async def get_bearer_token(request: Request) -> str | None:
    """The `Authorization: Bearer` credential, if one was sent."""
    return bearer_token(request.headers.get("authorization"))


TokenDep = Annotated[str | None, Depends(get_bearer_token)]


@dataclass(frozen=True, slots=True)
class Credential:
    """The request's `Authorization: Bearer` credential (an access token or an API key), not
    yet looked up. An `async def` route reads its caller with `user(session)` inside the one
    worker-thread step that does the rest of its work (`in_worker_thread`): one hop for the
    request instead of one for the caller and another for the work."""

    token: str = field(repr=False)  # a secret: never in a log line or a traceback's repr
    settings: Settings = field(repr=False)

    def user(self, session: Session) -> User:
        """The caller, read afresh with their session: a logout, a deleted user or a reset
        database refuses the credential here (401)."""
        return auth.user_from_bearer(session=session, settings=self.settings, token=self.token)

    def customer_id(self, session: Session) -> uuid.UUID:
        """The calling customer's id (403 for staff)."""
        return customer_id_of(self.user(session))


@raises(NotAuthenticated)
@authenticated_by(oauth2_scheme, api_key_scheme)
async def get_credential(request: Request) -> Credential:
    """The Bearer credential (both schemes send the same header); 401 when none was sent."""
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        raise NotAuthenticated()
    settings: Settings = request.app.state.settings
    return Credential(token=token, settings=settings)


CredentialDep = Annotated[Credential, Depends(get_credential)]


def get_current_user(session: SessionDep, credential: CredentialDep) -> User:
    """The caller, for a plain `def` route. The read ends here: the request gives its
    connection back before it waits for its next thread (a refused credential ends the
    request, whose session is then closed)."""
    user = credential.user(session)
    session.commit()
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]
SandboxHubDep = Annotated[SandboxHub, Depends(get_sandbox_hub)]


@raises(NotAuthenticated)
@authenticated_by(oauth2_scheme, api_key_scheme, optional=True)
def get_sandbox_caller_or_anonymous(
    session: SessionDep, settings: SettingsDep, token: TokenDep
) -> Caller:
    """Who creates a sandbox: the request's sandbox and its user, if a credential was sent
    (anyone may create one when self-service is on). The session's read ends here, so a restore
    can replace the database under it."""
    user = auth.user_from_bearer(session=session, settings=settings, token=token) if token else None
    session.commit()
    return Caller(sandbox_id=current_sandbox_id(), user=user)


@authenticated_by(oauth2_scheme, api_key_scheme)
async def get_sandbox_caller(
    caller: Annotated[Caller, Depends(get_sandbox_caller_or_anonymous)],
) -> Caller:
    """Who manages sandboxes: a logged-on user (of the default sandbox or of the one managed)."""
    if caller.user is None:
        raise NotAuthenticated()
    return caller


SandboxCaller = Annotated[Caller, Depends(get_sandbox_caller)]
SandboxCreator = Annotated[Caller, Depends(get_sandbox_caller_or_anonymous)]


def require_roles(*roles: Role) -> Callable[[User], Awaitable[User]]:
    @raises(Forbidden)
    async def check(user: CurrentUser) -> User:
        if user.role not in roles:
            raise Forbidden()
        return user

    return check


def customer_id_of(user: User) -> uuid.UUID:
    """The customer a user is; 403 for staff, who have no accounts of their own."""
    if user.role != Role.customer or user.customer_id is None:
        raise Forbidden("Only customers have accounts and portfolios")
    return user.customer_id


@raises(Forbidden)
async def get_current_customer_id(user: CurrentUser) -> uuid.UUID:
    return customer_id_of(user)


CurrentCustomerId = Annotated[uuid.UUID, Depends(get_current_customer_id)]
AdminUser = Annotated[User, Depends(require_roles(Role.admin))]
AnalystUser = Annotated[User, Depends(require_roles(Role.analyst, Role.admin))]


# A CustomerOID in a path: a UUID in canonical form (400 "Invalid CustomerOID format" if not).
CustomerOid = Annotated[
    str,
    Path(
        description="The customer's UUID (8-4-4-4-12 hexadecimal digits)",
        json_schema_extra={"format": "uuid", "pattern": UUID_PATTERN},
    ),
]


@raises(InvalidCustomerOid)
async def parse_customer_oid_path(customer_oid: CustomerOid) -> uuid.UUID:
    """The `{customer_oid}` path parameter as a UUID; 400 "Invalid CustomerOID format" if not."""
    return customers.parse_customer_oid(customer_oid)


def portfolio_customer_id(user: User, customer_oid: str) -> uuid.UUID:
    """Whose portfolio the caller may read: any for analysts and admins, only their own for a
    customer. Another customer's OID answers 404 with the same body as an unknown one."""
    customer_id = customers.parse_customer_oid(customer_oid)
    if user.role == Role.customer and user.customer_id != customer_id:
        raise CustomerNotFound.for_oid(customer_id)
    return customer_id


@raises(InvalidCustomerOid, CustomerNotFound)
async def get_portfolio_customer_id(user: CurrentUser, customer_oid: CustomerOid) -> uuid.UUID:
    return portfolio_customer_id(user, customer_oid)


# Declared after the role checks in a route's signature, so 401/403 come before a 400.
CustomerOidPath = Annotated[uuid.UUID, Depends(parse_customer_oid_path)]
PortfolioCustomerId = Annotated[uuid.UUID, Depends(get_portfolio_customer_id)]


# An IBAN in a path (`{iban:iban}`): a segment without an IBAN's shape names no route (404).
IbanPath = Annotated[
    str,
    Path(
        description="IBAN, with or without spaces, any case",
        pattern=IBAN_PATH_PATTERN,
        json_schema_extra={"format": "iban"},
    ),
]


# ISO codes in a path (`{code:currency}`, `{iso_code:country}`): any other segment is a 404.
CurrencyPath = Annotated[
    str,
    Path(
        description="ISO 4217 currency code, any case",
        pattern=CURRENCY_PATTERN,
        json_schema_extra={"format": "iso4217"},
    ),
]
CountryPath = Annotated[
    str,
    Path(
        description="ISO 3166-1 alpha-2 country code, any case",
        pattern=COUNTRY_PATTERN,
        json_schema_extra={"format": "iso3166-alpha2"},
    ),
]


@raises(MalformedIban, AccountNotFound)
def get_readable_account(
    iban: IbanPath,
    user: CurrentUser,
    session: SessionDep,
) -> Account:
    """The account in the path, if the caller is its owner, an analyst or an admin (else 404).
    The read ends here, as in `get_current_user`."""
    account = accounts.get_readable(session=session, user=user, iban=iban)
    session.commit()
    return account


ReadableAccount = Annotated[Account, Depends(get_readable_account)]


@raises(MalformedIban)
async def get_path_iban(iban: IbanPath) -> str:
    """The IBAN in the path in compact form; 400 when it is not a valid IBAN."""
    return accounts.normalise_iban(iban, in_path=True)


PathIban = Annotated[str, Depends(get_path_iban)]


@raises(BadRequest)
def _path_id(text: str, noun: str) -> int:
    """A row id in the path; 400 "Malformed <noun> id" unless it is ASCII digits from 1 to
    2^63-1."""
    value = parse_id(text)
    if value is None:
        raise BadRequest(f"Malformed {noun} id")
    return value


async def get_transfer_id(
    transfer_id: Annotated[
        str,
        Path(
            description="The transfer's id",
            json_schema_extra={"type": "integer", "minimum": ID_MIN, "maximum": ID_MAX},
        ),
    ],
) -> int:
    return _path_id(transfer_id, "transfer")


async def get_standing_order_id(
    order_id: Annotated[
        str,
        Path(
            description="The standing order's id",
            json_schema_extra={"type": "integer", "minimum": ID_MIN, "maximum": ID_MAX},
        ),
    ],
) -> int:
    return _path_id(order_id, "standing order")


async def get_card_payment_id(
    payment_id: Annotated[
        str,
        Path(
            description="The card payment's id",
            json_schema_extra={"type": "integer", "minimum": ID_MIN, "maximum": ID_MAX},
        ),
    ],
) -> int:
    return _path_id(payment_id, "card payment")


TransferId = Annotated[int, Depends(get_transfer_id)]
StandingOrderId = Annotated[int, Depends(get_standing_order_id)]
CardPaymentId = Annotated[int, Depends(get_card_payment_id)]

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=IDEMPOTENCY_KEY_MAX,
        description="Makes a retry safe: the same key with the same body returns the first "
        "response without moving money again (keys are yours alone, kept at least 24 hours; "
        "at most 255 characters)",
    ),
]

M = TypeVar("M", bound=BaseModel)


def idempotent_response(response: Response, outcome: Outcome[M]) -> M:
    """The outcome's status, and `Idempotent-Replayed: true` when it is a stored response."""
    response.status_code = outcome.status_code
    if outcome.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return outcome.body
