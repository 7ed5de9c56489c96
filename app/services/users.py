"""Logins: creating users and the admin bootstrap."""

from __future__ import annotations

import logging
import uuid

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app.core.db import write_transaction
from app.core.security import hash_password
from app.errors import UsernameTaken
from app.models.user import Role, User

logger = logging.getLogger(__name__)


def normalise_username(username: str) -> str:
    return username.strip().lower()


def get_by_username(*, session: Session, username: str) -> User | None:
    return session.exec(select(User).where(User.username == normalise_username(username))).first()


def username_exists(*, session: Session, username: str) -> bool:
    return get_by_username(session=session, username=username) is not None


def add_user(
    *,
    session: Session,
    username: str,
    password_hash: str,
    role: Role,
    customer_id: uuid.UUID | None = None,
    uid: uuid.UUID | None = None,
) -> User:
    """Add a user inside the caller's unit of work; a taken username raises `UsernameTaken`.
    `uid` is a new random UUID unless given (seeding derives it from its seed)."""
    if username_exists(session=session, username=username):
        raise UsernameTaken()
    user = User(
        uid=uid or uuid.uuid4(),
        username=normalise_username(username),
        password_hash=password_hash,
        role=role,
        customer_id=customer_id,
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent insert won the race (PostgreSQL)
        raise UsernameTaken() from exc
    return user


def create_user(
    *, session: Session, username: str, password: str, role: Role, bcrypt_rounds: int
) -> User:
    password_hash = hash_password(password, bcrypt_rounds)
    with write_transaction(session):
        return add_user(session=session, username=username, password_hash=password_hash, role=role)


def ensure_admin(*, session: Session, username: str, password: str, bcrypt_rounds: int) -> bool:
    """Create the bootstrap admin when absent. An existing user's password is never reset."""
    if get_by_username(session=session, username=username) is not None:
        session.commit()
        return False
    try:
        create_user(
            session=session,
            username=username,
            password=password,
            role=Role.admin,
            bcrypt_rounds=bcrypt_rounds,
        )
    except UsernameTaken:  # another worker created it at the same moment
        return False
    logger.info("created the bootstrap admin user %r", normalise_username(username))
    return True
