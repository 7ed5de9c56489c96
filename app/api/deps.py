"""Dependencies as `Annotated` aliases: settings, session, the caller and their role."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Annotated, TypeVar

from fastapi import Depends, Header, Path, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, OAuth2PasswordBearer
from pydantic import BaseModel
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.core.config import Settings
from app.core.db import new_session
from app.core.sandbox_context import SANDBOX_HEADER, current_sandbox, current_sandbox_id
from app.errors import BadRequest, CustomerNotFound, Forbidden, NotAuthenticated
from app.models.account import Account
from app.models.idempotency_key import IDEMPOTENCY_KEY_MAX
from app.models.user import Role, User
from app.services import accounts, auth, customers
from app.services.idempotency import Outcome
from app.services.sandboxes import Caller, SandboxHub

# Two ways to send the same `Authorization: Bearer ...` header, both offered by Swagger UI's
# Authorize: an access token from the password flow, or an API key (`obk_...`).
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


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_engine(request: Request) -> Engine:
    """The engine of the request's sandbox (the default one's without the header)."""
    context = current_sandbox()
    if context is not None:
        return context.engine
    engine: Engine = request.app.state.engine
    return engine


def get_session(request: Request) -> Iterator[Session]:
    with new_session(get_engine(request)) as session:
        yield session


def get_sandbox_hub(request: Request) -> SandboxHub:
    hub: SandboxHub = request.app.state.sandboxes
    return hub


async def get_client_address(request: Request) -> str | None:
    """The client's address: the socket's, or the one a proxy that uvicorn was told to trust
    (`--forwarded-allow-ips`) forwarded; throttling counts per address."""
    return request.client.host if request.client else None


ClientAddress = Annotated[str | None, Depends(get_client_address)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
SessionDep = Annotated[Session, Depends(get_session)]
TokenDep = Annotated[str | None, Depends(oauth2_scheme)]
ApiKeyDep = Annotated[HTTPAuthorizationCredentials | None, Depends(api_key_scheme)]


def get_current_user(
    session: SessionDep, settings: SettingsDep, token: TokenDep, _key: ApiKeyDep
) -> User:
    """The caller, from the Bearer credential (both schemes read the same header)."""
    if not token:
        raise NotAuthenticated()
    return auth.user_from_bearer(session=session, settings=settings, token=token)


CurrentUser = Annotated[User, Depends(get_current_user)]
SandboxHubDep = Annotated[SandboxHub, Depends(get_sandbox_hub)]


def get_sandbox_caller(
    session: SessionDep, settings: SettingsDep, token: TokenDep, _key: ApiKeyDep
) -> Caller:
    """Who manages sandboxes: the request's sandbox and its user, if a credential was sent (a
    sandbox may be created without one when self-service is on). The session's read ends here,
    so a restore can replace the database under it."""
    user = auth.user_from_bearer(session=session, settings=settings, token=token) if token else None
    session.commit()
    return Caller(sandbox_id=current_sandbox_id(), user=user)


SandboxCaller = Annotated[Caller, Depends(get_sandbox_caller)]


def sandbox_header(
    _sandbox: Annotated[
        str | None,
        Header(
            alias=SANDBOX_HEADER,
            pattern=r"^(sbx_[a-z2-7]{16}|default)$",
            description="The sandbox (isolated bank) to work in, from POST /sandboxes; "
            "without it, the default sandbox",
        ),
    ] = None,
) -> None:
    """Documents the header on every operation; the routing middleware has acted on it."""


def require_roles(*roles: Role) -> Callable[[User], User]:
    def check(user: CurrentUser) -> User:
        if user.role not in roles:
            raise Forbidden()
        return user

    return check


def get_current_customer_id(user: CurrentUser) -> uuid.UUID:
    if user.role != Role.customer or user.customer_id is None:
        raise Forbidden("Only customers have accounts and portfolios")
    return user.customer_id


CurrentCustomerId = Annotated[uuid.UUID, Depends(get_current_customer_id)]
AdminUser = Annotated[User, Depends(require_roles(Role.admin))]
AnalystUser = Annotated[User, Depends(require_roles(Role.analyst, Role.admin))]


def parse_customer_oid_path(customer_oid: str) -> uuid.UUID:
    """The `{customer_oid}` path parameter as a UUID; 400 "Invalid CustomerOID format" if not."""
    return customers.parse_customer_oid(customer_oid)


def get_portfolio_customer_id(user: CurrentUser, customer_oid: str) -> uuid.UUID:
    """Whose portfolio the caller may read: any for analysts and admins, only their own for a
    customer. Another customer's OID answers 404 with the same body as an unknown one."""
    customer_id = customers.parse_customer_oid(customer_oid)
    if user.role == Role.customer and user.customer_id != customer_id:
        raise CustomerNotFound.for_oid(customer_id)
    return customer_id


# Declared after the role checks in a route's signature, so 401/403 come before a 400.
CustomerOidPath = Annotated[uuid.UUID, Depends(parse_customer_oid_path)]
PortfolioCustomerId = Annotated[uuid.UUID, Depends(get_portfolio_customer_id)]


def get_readable_account(
    iban: Annotated[str, Path(description="IBAN, with or without spaces")],
    user: CurrentUser,
    session: SessionDep,
) -> Account:
    """The account in the path, if the caller is its owner, an analyst or an admin (else 404)."""
    return accounts.get_readable(session=session, user=user, iban=iban)


ReadableAccount = Annotated[Account, Depends(get_readable_account)]


def get_path_iban(iban: Annotated[str, Path(description="IBAN, with or without spaces")]) -> str:
    """The IBAN in the path in compact form; 400 when it is not a valid IBAN."""
    return accounts.normalise_iban(iban, in_path=True)


PathIban = Annotated[str, Depends(get_path_iban)]


def get_transfer_id(transfer_id: Annotated[str, Path()]) -> int:
    if not transfer_id.isascii() or not transfer_id.isdigit() or len(transfer_id) > 18:
        raise BadRequest("Malformed transfer id")
    return int(transfer_id)


TransferId = Annotated[int, Depends(get_transfer_id)]

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
