"""Helpers that read the database directly, each in a fresh session (so never a stale snapshot)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import SQLModel, func, select

from app.core.db import new_session
from app.models.user import User


def count_rows(engine: Engine, model: type[SQLModel], *where: Any) -> int:
    with new_session(engine) as session:
        statement = select(func.count()).select_from(model)
        for condition in where:
            statement = statement.where(condition)
        return int(session.exec(statement).one())


def get_user(engine: Engine, username: str) -> User | None:
    with new_session(engine) as session:
        return session.exec(select(User).where(User.username == username)).first()
