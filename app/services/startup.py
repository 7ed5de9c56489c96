"""What every entry point does before it serves: bring the schema to this code's revision, then
write the first-start data. The HTTP app's lifespan and the MCP server over stdio both call
`prepare_database`, so a fresh database works whichever of them starts first."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from app.core.config import Settings
from app.core.db import new_session, write_transaction
from app.core.migrations import migration_lock, prepare_schema
from app.services import fx, idempotency, institutions, interest, reference, users


def bootstrap(*, engine: Engine, settings: Settings) -> None:
    """First-start data: reference lists and FX rates, this bank's institution row, the
    bootstrap admin."""
    with new_session(engine) as session:
        reference.ensure_defaults(
            session=session,
            countries=settings.default_countries,
            currencies=settings.default_currencies,
        )
        fx.ensure_defaults(session=session, rates=settings.default_fx_rates)
        interest.ensure_defaults(session=session, rates=settings.default_interest_rates)
        with write_transaction(session):
            institutions.ensure_own_bank(session=session, settings=settings)
        idempotency.purge_expired(session=session)
        if settings.admin_username and settings.admin_password:
            users.ensure_admin(
                session=session,
                username=settings.admin_username,
                password=settings.admin_password,
                bcrypt_rounds=settings.bcrypt_rounds,
            )


def prepare_database(*, engine: Engine, settings: Settings) -> None:
    """Bring the schema to this code's revision, then write the first-start data.

    Under the start-up lock: workers and hosts that start together do this one at a time.
    A database that a newer version has migrated stops the start (`SchemaVersionError`).
    """
    with migration_lock(engine) as connection:
        prepare_schema(connection, auto_migrate=settings.auto_migrate)
        bootstrap(engine=engine, settings=settings)
