"""Alembic environment: the database from the app's settings, the target schema from app.models.

In-process (the app's start, seed.py, the tests) the caller passes a connection that already holds
the start-up lock and a transaction (`config.attributes["connection"]`); from the command line
this file takes them itself, through the same helpers.
"""

from __future__ import annotations

from collections.abc import Callable
from logging.config import fileConfig
from typing import Any

from alembic import context
from alembic.operations.batch import ApplyBatchImpl
from sqlalchemy import Enum, String
from sqlalchemy.engine import Connection
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

import app.models  # noqa: F401  (registers every table on SQLModel.metadata)
from app.core.config import get_settings
from app.core.db import create_db_engine
from app.core.migrations import COMPARE_OPTIONS, migration_lock, migration_transaction

config = context.config
target_metadata = SQLModel.metadata


def _constraints_in_name_order(grab: Callable[[ApplyBatchImpl], None]) -> Any:
    """A table that SQLite's batch mode rebuilds gets its constraints and indexes in name order.
    Alembic copies them in the order of a set (the reflected table's), which changes from run to
    run, so two databases migrated alike would differ in their schema's text (`sqlite3 .dump`)."""

    def grab_sorted(self: ApplyBatchImpl) -> None:
        grab(self)
        self.named_constraints = dict(sorted(self.named_constraints.items()))
        self.indexes = dict(sorted(self.indexes.items()))

    return grab_sorted


ApplyBatchImpl._grab_table_elements = _constraints_in_name_order(  # type: ignore[method-assign]
    ApplyBatchImpl._grab_table_elements
)


def render_item(kind: str, obj: Any, autogen_context: Any) -> str | bool:
    """Write the app's column types (money as integer cents, UTC datetimes, sqlmodel's strings,
    enums) as the plain SQLAlchemy types they are stored as, so migrations never import app code
    and keep meaning what they meant when they were written."""
    if kind != "type":
        return False
    if isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl_instance!r}"
    if isinstance(obj, Enum) and not obj.native_enum:  # app.core.enums: a VARCHAR + a CHECK
        return f"sa.{String(obj.length)!r}"
    return False


def _configure(**kwargs: Any) -> None:
    context.configure(
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite can ALTER little: rebuild the table instead
        render_item=render_item,
        **COMPARE_OPTIONS,
        **kwargs,
    )


def run_offline() -> None:
    _configure(url=get_settings().database_url, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    if config.config_file_name is not None:
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    engine = create_db_engine(get_settings())
    try:
        with migration_lock(engine) as locked, migration_transaction(locked):
            _run(locked)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
