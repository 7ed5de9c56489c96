"""Dependencies as `Annotated` aliases: settings, session, the caller and their role."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session

from app.core.config import Settings
from app.core.db import new_session
from app.errors import CustomerNotFound, Forbidden, NotAuthenticated
from app.models.user import Role, User
from app.services import auth, customers

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/auth/logon", auto_error=False)


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    with new_session(request.app.state.engine) as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
TokenDep = Annotated[str | None, Depends(oauth2_scheme)]


def get_current_user(session: SessionDep, settings: SettingsDep, token: TokenDep) -> User:
    if not token:
        raise NotAuthenticated()
    return auth.user_from_access_token(session=session, settings=settings, token=token)


CurrentUser = Annotated[User, Depends(get_current_user)]


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
