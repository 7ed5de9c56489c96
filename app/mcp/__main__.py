"""The MCP server over stdio, for desktop MCP clients: `uv run python -m app.mcp`
(`--sandbox sbx_...` serves that sandbox instead of the default bank).

It reads the configured database (`DATABASE_URL`, `.env`) directly, with no HTTP hop and no
token: whoever can start it has analyst-level read access to that database, as with the file
itself. The start migrates the database and writes the first-start data, as the app's start
does, so a fresh database works. stdout carries the protocol; logs go to stderr.
"""

from __future__ import annotations

import argparse
import sys

from app.core.config import Settings, get_settings
from app.core.db import create_db_engine
from app.core.logs import configure_logging
from app.mcp.server import build_mcp_server
from app.services import sandboxes, startup


def main(settings: Settings | None = None, argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m app.mcp", description=__doc__)
    parser.add_argument("--sandbox", metavar="SANDBOX_ID", help="serve this sandbox (sbx_...)")
    args = parser.parse_args(argv or [])
    settings = settings or get_settings()
    configure_logging(settings.log_level, stream=sys.stderr)
    settings.check_admin_password()
    engine = create_db_engine(settings)
    try:
        startup.prepare_database(engine=engine, settings=settings)
        served = engine
        if args.sandbox:
            served = sandboxes.open_for_script(
                settings=settings, registry=engine, sandbox_id=args.sandbox
            )
        try:
            build_mcp_server(engine=served, settings=settings).run("stdio")
        finally:
            served.dispose()
    finally:
        engine.dispose()


if __name__ == "__main__":
    main(argv=sys.argv[1:])
