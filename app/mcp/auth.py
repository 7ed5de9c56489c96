"""The MCP endpoint's token check: the SDK's `TokenVerifier` hook over the REST API's own.

A Bearer credential is accepted when `auth.user_from_bearer` accepts it: an API key (`obk_...`)
or an access token (signature, expiry, issuer, audience, type, a live user and session). The
user's role becomes its scopes and the endpoint requires `analyst`, which analysts and admins
have: a customer's token is 403 (`insufficient_scope`), answered by the SDK's middleware. A
refused credential raises `TokenRefused`, which `app.mcp.http` answers with 401 and a
`WWW-Authenticate` header that says why (expired, revoked, unknown...), so the MCP client can
tell its user; no token at all is the SDK's 401 "Authentication required".
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
from app.core.sandbox_context import sandbox_engine
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


class TokenRefused(Exception):
    """The credential was refused; `error` is the REST API's error, with its reason."""

    def __init__(self, error: InvalidToken) -> None:
        super().__init__(error.reason)
        self.error = error


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
            with new_session(sandbox_engine(self.engine)) as session:
                user = auth.user_from_bearer(session=session, settings=self.settings, token=token)
        except InvalidToken as exc:
            raise TokenRefused(exc) from exc
        except (OperationalError, PoolTimeoutError) as exc:
            logger.error("MCP token check: database unavailable (%s)", type(exc).__name__)
            raise DatabaseUnavailable() from exc
        return AccessToken(
            token=token,
            client_id=user.username,
            scopes=list(SCOPES.get(user.role, [])),
            subject=str(user.uid),
        )
