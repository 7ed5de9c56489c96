import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.core.security import verify_password
from app.errors import UsernameTaken
from app.models.user import Role, User
from app.services import users


def all_users(session: Session) -> list[tuple[str, Role]]:
    session.rollback()  # read a fresh snapshot
    return [(u.username, u.role) for u in session.exec(select(User).order_by(User.username))]


def test_normalise_username() -> None:
    assert users.normalise_username("  Jane.Doe ") == "jane.doe"


def test_create_user_stores_a_lower_case_name_and_a_hash(session: Session) -> None:
    user = users.create_user(
        session=session,
        username="Ann.Analyst",
        password="analyst-pw-123",
        role=Role.analyst,
        bcrypt_rounds=4,
    )
    assert user.username == "ann.analyst"
    assert user.role == Role.analyst
    assert user.customer_id is None
    assert user.password_hash != "analyst-pw-123"
    assert verify_password("analyst-pw-123", user.password_hash)
    assert users.get_by_username(session=session, username="ANN.ANALYST") == user
    assert users.username_exists(session=session, username="ann.analyst")
    assert not users.username_exists(session=session, username="someone.else")


def test_create_user_refuses_a_taken_name_in_any_case(session: Session) -> None:
    users.create_user(
        session=session,
        username="taken",
        password="pw-123456789",
        role=Role.admin,
        bcrypt_rounds=4,
    )
    with pytest.raises(UsernameTaken):
        users.create_user(
            session=session,
            username="TAKEN",
            password="pw-987654321",
            role=Role.analyst,
            bcrypt_rounds=4,
        )
    assert all_users(session) == [("taken", Role.admin)]


def test_a_concurrent_insert_caught_by_the_unique_constraint_is_username_taken(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    users.create_user(
        session=session,
        username="racer",
        password="pw-123456789",
        role=Role.admin,
        bcrypt_rounds=4,
    )
    # As if another worker inserted "racer" between our check and our insert.
    monkeypatch.setattr(users, "username_exists", lambda **_: False)
    with pytest.raises(UsernameTaken):
        users.create_user(
            session=session,
            username="racer",
            password="pw-987654321",
            role=Role.analyst,
            bcrypt_rounds=4,
        )
    assert all_users(session) == [("racer", Role.admin)]


def test_ensure_admin_creates_the_admin_once(session: Session) -> None:
    created = users.ensure_admin(
        session=session, username="Root", password="first-password", bcrypt_rounds=4
    )
    assert created is True
    again = users.ensure_admin(
        session=session, username="root", password="second-password", bcrypt_rounds=4
    )
    assert again is False
    assert all_users(session) == [("root", Role.admin)]
    admin = users.get_by_username(session=session, username="root")
    assert admin is not None
    assert verify_password("first-password", admin.password_hash)
    assert not verify_password("second-password", admin.password_hash)


def test_ensure_admin_never_changes_an_existing_user(session: Session) -> None:
    users.create_user(
        session=session,
        username="ops",
        password="analyst-password",
        role=Role.analyst,
        bcrypt_rounds=4,
    )
    assert (
        users.ensure_admin(
            session=session, username="ops", password="admin-password", bcrypt_rounds=4
        )
        is False
    )
    assert all_users(session) == [("ops", Role.analyst)]


def test_ensure_admin_losing_a_race_is_not_an_error(
    session: Session, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    users.create_user(
        session=session,
        username="root",
        password="other-worker-pw",
        role=Role.admin,
        bcrypt_rounds=4,
    )
    # Another worker created the admin after our lookup found nobody.
    monkeypatch.setattr(users, "get_by_username", lambda **_: None)
    assert (
        users.ensure_admin(
            session=session, username="root", password="my-password-1", bcrypt_rounds=4
        )
        is False
    )
    assert all_users(session) == [("root", Role.admin)]
