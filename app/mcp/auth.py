"""The MCP endpoint's token check: the SDK's `TokenVerifier` hook over our own JWT check.

A token is accepted when `auth.user_from_access_token` accepts it (signature, expiry, issuer,
audience, type `access`, and a user that still exists). The user's role becomes its scopes and
the endpoint requires `analyst`, which analysts and admins have: no token or a bad one is 401,
a customer's token 403 (`insufficient_scope`), both answered by the SDK's middleware.
"""

from __future__ import annotations

import logging

import anyio.to_thread
from mcp.server.auth.provider import AccessToken
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from app.core.config import Settings
from app.core.db import new_session
from app.errors import InvalidToken
from app.models.user import Role
from app.services import auth

logger = logging.getLogger(__name__)

REQUIRED_SCOPE = "analyst"

SCOPES: dict[Role, list[str]] = {
    Role.admin: ["admin", "analyst"],
    Role.analyst: ["analyst"],
    Role.customer: ["customer"],
}


class DatabaseUnavailable(Exception):
    """The token could not be checked because the database did not answer."""


class BankTokenVerifier:
    """Checks a Bearer token the way the REST API does, re-reading its user every time."""

    def __init__(self, *, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings

    async def verify_token(self, token: str) -> AccessToken | None:
        # The check reads the database with a synchronous session: off the event loop.
        return await anyio.to_thread.run_sync(self._verify, token)

    def _verify(self, token: str) -> AccessToken | None:
        try:
            with new_session(self.engine) as session:
                user = auth.user_from_access_token(
                    session=session, settings=self.settings, token=token
                )
        except InvalidToken:
            return None
        except (OperationalError, PoolTimeoutError) as exc:
            logger.error("MCP token check: database unavailable (%s)", type(exc).__name__)
            raise DatabaseUnavailable() from exc
        return AccessToken(
            token=token,
            client_id=user.username,
            scopes=list(SCOPES.get(user.role, [])),
            subject=str(user.uid),
        )
