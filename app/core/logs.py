"""Logging for the app and the stdio MCP server: `LOG_LEVEL` for everything, and quiet libraries.

At INFO a normal start says what the server does and a request says nothing but uvicorn's access
line. Two libraries log routine work at INFO and are held at WARNING unless `LOG_LEVEL=DEBUG`:

- `alembic`: "Context impl SQLiteImpl.", "Will assume non-transactional DDL." on every start and
  one line per migration run (the app logs one line of its own when it migrates);
- `mcp.server.streamable_http`: "Terminating session: None" after every stateless `/mcp` request.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

QUIET_LOGGERS = ("alembic", "mcp.server.streamable_http")


def configure_logging(level: str, *, stream: TextIO | None = None) -> None:
    """Root logging at `level` (the handler is added once, as `logging.basicConfig` does), and
    the chatty libraries at WARNING unless `level` is DEBUG."""
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    logging.basicConfig(level=numeric, stream=stream or sys.stderr)
    quiet = logging.NOTSET if numeric <= logging.DEBUG else logging.WARNING
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(quiet)
