"""Constraints live in the database, not only in Python."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from tests.utils.auth import AuthedUser

COPY_ACCOUNT = text(
    "INSERT INTO account "
    "(customer_id, institution_id, account_type, currency, balance, created_at, iban) "
    "SELECT customer_id, institution_id, :type, currency, :balance, created_at, :new_iban "
    "FROM account WHERE iban = :iban"
).bindparams(new_iban="NL02ABNA0123456789")  # a distinct IBAN: every account needs one


def balance_of(session: Session, iban: str) -> int:
    return int(
        session.execute(
            text("SELECT balance FROM account WHERE iban = :iban"), {"iban": iban}
        ).scalar_one()
    )


def test_negative_balance_update_is_refused_by_the_database(
    session: Session, customer: AuthedUser
) -> None:
    with pytest.raises(IntegrityError, match="ck_account_balance_non_negative"):
        session.execute(
            text("UPDATE account SET balance = -1 WHERE iban = :iban"), {"iban": customer.iban}
        )
    session.rollback()
    assert balance_of(session, customer.iban) == 0
    # The same statement with a non-negative amount is fine: it is the check that refused.
    session.execute(
        text("UPDATE account SET balance = 2500 WHERE iban = :iban"), {"iban": customer.iban}
    )
    session.commit()
    assert balance_of(session, customer.iban) == 2500


def test_negative_balance_insert_is_refused_by_the_database(
    session: Session, customer: AuthedUser
) -> None:
    params = {"type": "saving", "iban": customer.iban}
    with pytest.raises(IntegrityError, match="ck_account_balance_non_negative"):
        session.execute(COPY_ACCOUNT, {**params, "balance": -100})
    session.rollback()
    session.execute(COPY_ACCOUNT, {**params, "balance": 0})
    session.commit()
    count = session.execute(text("SELECT count(*) FROM account")).scalar_one()
    assert count == 2


def test_account_type_is_checked_by_the_database(session: Session, customer: AuthedUser) -> None:
    with pytest.raises(IntegrityError, match="ck_account_type"):
        session.execute(COPY_ACCOUNT, {"type": "credit", "balance": 0, "iban": customer.iban})
    session.rollback()


def test_one_account_per_type_is_unique_in_the_database(
    session: Session, customer: AuthedUser
) -> None:
    with pytest.raises(IntegrityError, match=r"UNIQUE|uq_account_customer_type"):
        session.execute(COPY_ACCOUNT, {"type": "checking", "balance": 0, "iban": customer.iban})
    session.rollback()


def test_accounts_need_a_known_currency(session: Session, customer: AuthedUser) -> None:
    with pytest.raises(IntegrityError, match=r"FOREIGN KEY|foreign key"):
        session.execute(
            text("UPDATE account SET currency = 'XYZ' WHERE iban = :iban"), {"iban": customer.iban}
        )
    session.rollback()


def test_customer_users_need_a_customer(session: Session, customer: AuthedUser) -> None:
    with pytest.raises(IntegrityError, match="ck_user_customer_link"):
        session.execute(text("""UPDATE "user" SET customer_id = NULL WHERE username = 'alice'"""))
    session.rollback()


def test_holding_more_than_the_balance_is_refused_by_the_database(
    session: Session, customer: AuthedUser
) -> None:
    session.execute(
        text("UPDATE account SET balance = 1000 WHERE iban = :iban"), {"iban": customer.iban}
    )
    session.commit()
    for held in (1001, -1):
        with pytest.raises(IntegrityError, match="ck_account_held_within_balance"):
            session.execute(
                text("UPDATE account SET held = :held WHERE iban = :iban"),
                {"held": held, "iban": customer.iban},
            )
        session.rollback()
    session.execute(
        text("UPDATE account SET held = 1000 WHERE iban = :iban"), {"iban": customer.iban}
    )
    session.commit()
