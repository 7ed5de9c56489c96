"""Which sandbox (isolated bank) the current request works in.

A request names its sandbox in the `OpenBank-Sandbox` header; without it, it works in the default
sandbox, the server's own database. The routing middleware (`app.api.sandbox_routing`) resolves
the header once, with one dictionary look-up, and sets the context variable below; sessions,
token checks and MCP tools then read it wherever they run (a worker thread inherits it).
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from dataclasses import dataclass

from sqlalchemy.engine import Engine

DEFAULT_SANDBOX = "default"
SANDBOX_HEADER = "OpenBank-Sandbox"
# "sbx_" and 16 characters of base32 (80 random bits), lower case.
SANDBOX_ID_PATTERN = r"^sbx_[a-z2-7]{16}$"
SANDBOX_ID_LENGTH = 20
# What the header may hold: a sandbox id, or "default" (the same as no header).
SANDBOX_HEADER_PATTERN = r"^(sbx_[a-z2-7]{16}|default)$"
_SANDBOX_ID = re.compile(SANDBOX_ID_PATTERN)


def is_sandbox_id(value: str) -> bool:
    return bool(_SANDBOX_ID.match(value))


@dataclass(frozen=True)
class SandboxContext:
    """The sandbox of the running request: its id ("default" for the server's own database)
    and the engine of its database."""

    sandbox_id: str
    engine: Engine

    @property
    def is_default(self) -> bool:
        return self.sandbox_id == DEFAULT_SANDBOX


_current: ContextVar[SandboxContext | None] = ContextVar("openbank_sandbox", default=None)


def current_sandbox() -> SandboxContext | None:
    """The request's sandbox; None outside a request (scripts, the stdio MCP server)."""
    return _current.get()


def current_sandbox_id() -> str:
    context = _current.get()
    return context.sandbox_id if context else DEFAULT_SANDBOX


def enter_sandbox(context: SandboxContext | None) -> object:
    """Make `context` current; returns the token for `leave_sandbox`."""
    return _current.set(context)


def leave_sandbox(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]


def sandbox_engine(default: Engine) -> Engine:
    """The current request's sandbox engine; `default` outside a request (stdio, scripts)."""
    context = _current.get()
    return context.engine if context is not None else default
