"""Every foundation endpoint once, end to end, so that each leg of CI (SQLite, PostgreSQL) drives
all of the SQL the app issues: types (UUIDs, times, money, enums), constraints and errors."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.core.clock import utcnow
from app.core.config import Settings
from app.main import create_app
from app.models.account import Account, AccountType
from app.models.user import Role, User
from tests.utils.auth import AuthedUser, logon, register_customer, registration_body


def test_landing_and_reference_lists(client: TestClient) -> None:
    assert client.get("/").json()["docs"] == "/docs"
    assert [c["iso_code"] for c in client.get("/countries").json()] == ["BE", "DE", "NL"]
    assert [c["code"] for c in client.get("/currencies").json()] == ["EUR", "GBP", "USD"]


def test_registration_rules(client: TestClient, customer: AuthedUser) -> None:
    duplicate = client.post("/customers/register", json=registration_body("ALICE"))
    too_young = client.post(
        "/customers/register",
        json=registration_body("young", dob=(utcnow().date() - timedelta(days=365)).isoformat()),
    )
    not_allowed = client.post(
        "/customers/register", json=registration_body("from.fr", country="FR")
    )
    generated = client.post("/customers/register", json=registration_body("gen", password=None))

    assert duplicate.status_code == 409
    assert too_young.status_code == 422
    assert not_allowed.status_code == 403
    assert generated.status_code == 201
    assert len(generated.json()["password"]) == 16


def test_profile_times_and_ids_round_trip(client: TestClient, customer: AuthedUser) -> None:
    me = client.get("/customers/me", headers=customer.headers).json()

    assert me["customer_oid"] == customer.customer_oid
    assert me["username"] == "alice"
    assert me["id_document"] == "*****567"
    created = datetime.fromisoformat(me["created_at"])
    assert created.utcoffset() == timedelta(0)  # aware UTC on both databases
    assert abs(utcnow() - created) < timedelta(minutes=5)


def test_accounts_money_and_enums(
    client: TestClient, customer: AuthedUser, session: Session, engine: Engine
) -> None:
    opened = client.post(
        "/accounts/open",
        headers=customer.headers,
        json={"account_type": "saving", "currency": "usd"},
    )
    again = client.post(
        "/accounts/open",
        headers=customer.headers,
        json={"account_type": "saving", "currency": "EUR"},
    )
    unsupported = client.post(
        "/accounts/open",
        headers=customer.headers,
        json={"account_type": "investment", "currency": "CHF"},
    )
    with session.begin():
        account = session.exec(select(Account).where(Account.iban == customer.iban)).one()
        account.balance = account.balance + 25000 + (account.balance + 1).scaleb(-2)
        session.add(account)
    overview = client.get("/accounts/overview", headers=customer.headers).json()

    assert opened.status_code == 201
    assert opened.json()["currency"] == "USD"
    assert again.status_code == 409
    assert unsupported.status_code == 422
    assert [(a["account_type"], a["currency"], a["balance"]) for a in overview["accounts"]] == [
        ("checking", "EUR", "25000.01"),
        ("saving", "USD", "0.00"),
    ]
    with Session(engine) as fresh:
        stored = fresh.exec(select(Account).order_by(Account.id)).all()  # type: ignore[arg-type]
        assert [a.account_type for a in stored] == [AccountType.checking, AccountType.saving]
        assert isinstance(stored[0].account_type, AccountType)


def test_token_lifecycle(client: TestClient, customer: AuthedUser) -> None:
    bad_password = client.post("/auth/logon", data={"username": "alice", "password": "nope"})
    unknown = client.post("/auth/logon", data={"username": "nobody", "password": "nope"})
    rotated = client.post("/auth/refresh", json={"refresh_token": customer.refresh_token})
    reused = client.post("/auth/refresh", json={"refresh_token": customer.refresh_token})
    after_reuse = client.post(
        "/auth/refresh", json={"refresh_token": rotated.json()["refresh_token"]}
    )
    second = logon(client, "alice", customer.password)
    logged_out = client.post("/auth/logout", json={"refresh_token": second["refresh_token"]})
    after_logout = client.post("/auth/refresh", json={"refresh_token": second["refresh_token"]})
    garbage = client.post("/auth/logout", json={"refresh_token": "not-a-token"})

    assert bad_password.status_code == unknown.status_code == 401
    assert rotated.status_code == 200
    assert reused.status_code == after_reuse.status_code == 401
    assert logged_out.status_code == 204
    assert after_logout.status_code == garbage.status_code == 401
    assert client.get("/customers/me").status_code == 401
    assert client.get("/customers/me", headers={"Authorization": "Bearer x.y.z"}).status_code == 401


def test_admin_reference_data(
    client: TestClient, admin_headers: dict[str, str], customer: AuthedUser
) -> None:
    added = client.post("/admin/countries", headers=admin_headers, json={"iso_code": "fr"})
    again = client.post("/admin/countries", headers=admin_headers, json={"iso_code": "FR"})
    bogus = client.post("/admin/countries", headers=admin_headers, json={"iso_code": "XX"})
    listed = client.get("/admin/countries", headers=admin_headers).json()
    removed = client.delete("/admin/countries/fr", headers=admin_headers)
    gone = client.delete("/admin/countries/FR", headers=admin_headers)

    chf = client.post("/admin/currencies", headers=admin_headers, json={"code": "chf"})
    chf_again = client.post("/admin/currencies", headers=admin_headers, json={"code": "CHF"})
    bad_code = client.post("/admin/currencies", headers=admin_headers, json={"code": "ZZZ"})
    currencies = client.get("/admin/currencies", headers=admin_headers).json()
    eur_in_use = client.delete("/admin/currencies/EUR", headers=admin_headers)
    chf_removed = client.delete("/admin/currencies/CHF", headers=admin_headers)
    chf_gone = client.delete("/admin/currencies/CHF", headers=admin_headers)

    assert (added.status_code, added.json()["name"]) == (201, "France")
    assert again.status_code == 409
    assert bogus.status_code == 422
    assert "FR" in [c["iso_code"] for c in listed]
    assert (removed.status_code, gone.status_code) == (204, 404)
    assert (chf.status_code, chf_again.status_code, bad_code.status_code) == (201, 409, 422)
    assert "CHF" in [c["code"] for c in currencies]
    assert (eur_in_use.status_code, chf_removed.status_code, chf_gone.status_code) == (
        409,
        204,
        404,
    )


def test_roles_are_enforced(
    client: TestClient, analyst_headers: dict[str, str], customer: AuthedUser, engine: Engine
) -> None:
    assert client.get("/admin/countries", headers=analyst_headers).status_code == 403
    assert client.get("/admin/countries", headers=customer.headers).status_code == 403
    assert client.get("/accounts/overview", headers=analyst_headers).status_code == 403
    with Session(engine) as session:
        roles = session.exec(select(User.role).order_by(User.username)).all()  # type: ignore[arg-type]
    assert roles == [Role.analyst, Role.customer]


def test_bootstrap_admin_is_created_once(settings: Settings) -> None:
    settings = settings.model_copy(
        update={"admin_username": "Boss", "admin_password": "boss-password-123"}
    )
    for _ in range(2):  # the second start finds the admin and leaves it alone
        with TestClient(create_app(settings)) as client:
            assert logon(client, "boss", "boss-password-123")["token_type"] == "bearer"


def test_oversized_body_is_refused(client: TestClient) -> None:
    response = client.post(
        "/customers/register", content=b"x" * 2_000_000, headers={"content-type": "text/plain"}
    )
    assert response.status_code == 413


def test_two_customers_are_kept_apart(client: TestClient, customer: AuthedUser) -> None:
    bob = register_customer(client, username="bob", name="Bob Builder")
    alice_ibans = [
        a["iban"]
        for a in client.get("/accounts/overview", headers=customer.headers).json()["accounts"]
    ]
    bob_ibans = [
        a["iban"] for a in client.get("/accounts/overview", headers=bob.headers).json()["accounts"]
    ]
    assert alice_ibans == [customer.iban]
    assert bob_ibans == [bob.iban]
    assert customer.iban != bob.iban


def test_an_exhausted_connection_pool_answers_503(settings: Settings) -> None:
    settings = settings.model_copy(
        update={"db_pool_size": 1, "db_max_overflow": 1, "db_pool_timeout": 0.2}
    )
    app = create_app(settings)
    engine: Engine = app.state.engine
    with TestClient(app) as client, engine.connect(), engine.connect():  # all of them, held
        response = client.get("/countries")

    assert response.status_code == 503
    assert response.json() == {"detail": "Database busy, try again later"}
    assert response.headers["retry-after"] == "1"


def test_the_pool_must_leave_the_start_two_connections() -> None:
    with pytest.raises(ValidationError, match="at least 2"):
        Settings(_env_file=None, db_pool_size=1, db_max_overflow=0)  # type: ignore[call-arg]
