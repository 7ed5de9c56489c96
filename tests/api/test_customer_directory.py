"""GET /customers, POST /register-customer, DELETE /customer/{oid}, GET /customer/{oid}/exists."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, text
from sqlmodel import Session, col, select

from app.models.account import Account
from app.models.asset import Asset
from app.models.auth_session import AuthSession
from app.models.customer import Customer
from app.models.derivative_transaction import DerivativeTransaction
from app.models.portfolio_transaction import PortfolioTransaction
from app.models.spending import Spending
from app.models.user import User
from tests.utils.auth import AuthedUser
from tests.utils.portfolio import (
    add_account,
    add_asset,
    add_derivative,
    add_institution,
    add_spending,
    add_transactions,
    transaction_rows,
)

FIXED_OID = "550e8400-e29b-41d4-a716-446655440001"
MALFORMED = [
    "not-a-uuid",
    "550e8400e29b41d4a716446655440001",
    "550e8400-e29b-41d4-a716-44665544000Z",
    "550e8400-e29b-41d4-a716-44665544000\u0661",  # an Arabic-Indic 1: uuid.UUID reads it
    "{550e8400-e29b-41d4a716446655440001}",  # 36 characters that uuid.UUID reads too
]


def register(client: TestClient, headers: dict[str, str], name: str, oid: str | None = None) -> str:
    body = {"name": name} if oid is None else {"name": name, "customer_oid": oid}
    response = client.post("/register-customer", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["customer_oid"])


# --- POST /register-customer ------------------------------------------------------------------


def test_register_customer_generates_a_uuid(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    response = client.post(
        "/register-customer", json={"name": "  New Customer "}, headers=admin_headers
    )
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "New Customer"
    assert body["message"] == "Customer registered successfully"
    assert uuid.UUID(body["customer_oid"]).version == 4


def test_register_customer_keeps_a_given_oid(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    response = client.post(
        "/register-customer",
        json={"name": "John Doe", "customer_oid": FIXED_OID.upper()},
        headers=admin_headers,
    )
    assert response.status_code == 201
    assert response.json() == {
        "customer_oid": FIXED_OID,
        "name": "John Doe",
        "message": "Customer registered successfully",
    }


@pytest.mark.parametrize("oid", [*MALFORMED, "", "   "])
def test_register_customer_with_a_malformed_oid_is_400(
    client: TestClient, admin_headers: dict[str, str], oid: str
) -> None:
    response = client.post(
        "/register-customer", json={"name": "John Doe", "customer_oid": oid}, headers=admin_headers
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "Invalid CustomerOID format"}


def test_register_customer_twice_is_409(client: TestClient, admin_headers: dict[str, str]) -> None:
    register(client, admin_headers, "John Doe", FIXED_OID)
    response = client.post(
        "/register-customer",
        json={"name": "Someone Else", "customer_oid": FIXED_OID},
        headers=admin_headers,
    )
    assert response.status_code == 409
    assert response.json() == {"detail": f"Customer with CustomerOID '{FIXED_OID}' already exists"}


@pytest.mark.parametrize(
    "name",
    [
        "J",
        "  J  ",
        "",
        "x" * 101,
        "\u0000\u0000\u0000",  # was stored on SQLite
        "Nul\u0000Byte",
        "\t\r\n\u000b",
        "\u200b\u200b\u200b",  # zero-width spaces
        "\u00a0\u00a0\u3000",
    ],
)
def test_register_customer_rejects_a_bad_name(
    client: TestClient, session: Session, admin_headers: dict[str, str], name: str
) -> None:
    response = client.post("/register-customer", json={"name": name}, headers=admin_headers)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "name"]
    assert session.exec(select(func.count()).select_from(Customer)).one() == 0


def test_register_customer_needs_an_admin(
    client: TestClient, analyst_headers: dict[str, str], customer: AuthedUser
) -> None:
    body = {"name": "John Doe"}
    assert client.post("/register-customer", json=body).status_code == 401
    assert client.post("/register-customer", json=body, headers=analyst_headers).status_code == 403
    assert client.post("/register-customer", json=body, headers=customer.headers).status_code == 403


# --- GET /customers ---------------------------------------------------------------------------


def test_list_customers_pages_by_name_with_a_total(
    client: TestClient, admin_headers: dict[str, str], analyst_headers: dict[str, str]
) -> None:
    names = ["Carol", "alice", "Bob", "Dave", "Eve"]
    oids = {name: register(client, admin_headers, name) for name in names}

    first = client.get("/customers", params={"limit": 2}, headers=analyst_headers)
    assert first.status_code == 200
    assert first.headers["X-Total-Count"] == "5"
    # Sorted ignoring case, the same on every database.
    assert first.json() == [
        {"customer_oid": oids["alice"], "name": "alice"},
        {"customer_oid": oids["Bob"], "name": "Bob"},
    ]
    rest = client.get("/customers", params={"limit": 2, "offset": 2}, headers=analyst_headers)
    assert [c["name"] for c in rest.json()] == ["Carol", "Dave"]
    last = client.get("/customers", params={"offset": 4}, headers=admin_headers)
    assert [c["name"] for c in last.json()] == ["Eve"]
    assert last.headers["X-Total-Count"] == "5"


def test_list_customers_filters_by_part_of_the_name(
    client: TestClient, admin_headers: dict[str, str], analyst_headers: dict[str, str]
) -> None:
    for name in ["John Doe", "Jane Doe", "Johnny 100%", "Robert"]:
        register(client, admin_headers, name)
    doe = client.get("/customers", params={"name": "DOE"}, headers=analyst_headers)
    assert [c["name"] for c in doe.json()] == ["Jane Doe", "John Doe"]
    assert doe.headers["X-Total-Count"] == "2"
    # LIKE wildcards in the filter are taken literally.
    percent = client.get("/customers", params={"name": "0%"}, headers=analyst_headers)
    assert [c["name"] for c in percent.json()] == ["Johnny 100%"]
    underscore = client.get("/customers", params={"name": "_"}, headers=analyst_headers)
    assert underscore.json() == []
    assert underscore.headers["X-Total-Count"] == "0"


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 1001},
        {"offset": -1},
        {"offset": 2**63},  # more than a database OFFSET holds: was a 500
        {"offset": 10**30},
        {"name": "Jo\x00hn"},  # PostgreSQL cannot hold NUL: the same 422 on both databases
    ],
)
def test_list_customers_caps_the_page(
    client: TestClient, analyst_headers: dict[str, str], params: dict[str, int | str]
) -> None:
    response = client.get("/customers", params=params, headers=analyst_headers)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", next(iter(params))]


def test_list_customers_at_the_largest_offset_is_an_empty_page(
    client: TestClient, analyst_headers: dict[str, str], customer: AuthedUser
) -> None:
    response = client.get("/customers", params={"offset": 2**63 - 1}, headers=analyst_headers)
    assert response.status_code == 200
    assert response.json() == []
    assert response.headers["X-Total-Count"] == "1"


def test_list_customers_is_for_analysts_and_admins(
    client: TestClient, customer: AuthedUser
) -> None:
    response = client.get("/customers")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    forbidden = client.get("/customers", headers=customer.headers)
    assert forbidden.status_code == 403
    assert forbidden.json() == {"detail": "Not enough permissions"}


def test_customers_register_and_me_still_work_beside_the_list(
    client: TestClient, customer: AuthedUser, analyst_headers: dict[str, str]
) -> None:
    assert client.get("/customers/me", headers=customer.headers).json()["username"] == "alice"
    listed = client.get("/customers", headers=analyst_headers).json()
    assert listed == [{"customer_oid": customer.customer_oid, "name": "Alice Example"}]


# --- GET /customer/{oid}/exists ----------------------------------------------------------------


def test_exists_reports_name_or_absence(
    client: TestClient, admin_headers: dict[str, str], analyst_headers: dict[str, str]
) -> None:
    register(client, admin_headers, "John Doe", FIXED_OID)
    found = client.get(f"/customer/{FIXED_OID}/exists", headers=analyst_headers)
    assert found.status_code == 200
    assert found.json() == {"customer_oid": FIXED_OID, "exists": True, "name": "John Doe"}
    absent_oid = str(uuid.uuid4())
    absent = client.get(f"/customer/{absent_oid}/exists", headers=admin_headers)
    assert absent.status_code == 200
    assert absent.json() == {"customer_oid": absent_oid, "exists": False, "name": None}


def test_exists_gates_and_malformed_oid(
    client: TestClient, analyst_headers: dict[str, str], customer: AuthedUser
) -> None:
    path = f"/customer/{customer.customer_oid}/exists"
    assert client.get(path).status_code == 401
    assert client.get(path, headers=customer.headers).status_code == 403
    malformed = client.get("/customer/nope/exists", headers=analyst_headers)
    assert malformed.status_code == 400
    assert malformed.json() == {"detail": "Invalid CustomerOID format"}


# --- DELETE /customer/{oid} --------------------------------------------------------------------


def _owned_rows(session: Session, customer_id: uuid.UUID) -> dict[str, int]:
    counts = {}
    for table in (Account, Asset, PortfolioTransaction, Spending, DerivativeTransaction, User):
        counted = session.exec(
            select(func.count()).select_from(table).where(table.customer_id == customer_id)  # type: ignore[attr-defined]
        ).one()
        counts[table.__tablename__] = counted  # type: ignore[attr-defined]
    counts["customer"] = session.exec(
        select(func.count()).select_from(Customer).where(col(Customer.id) == customer_id)
    ).one()
    return counts


def test_delete_customer_removes_everything_it_owns(
    client: TestClient,
    session: Session,
    admin_headers: dict[str, str],
    customer: AuthedUser,
    other_customer: AuthedUser,
) -> None:
    owner = uuid.UUID(customer.customer_oid)
    bystander = uuid.UUID(other_customer.customer_oid)
    bank = add_institution(session)
    for who in (owner, bystander):
        account = add_account(session, who, bank, balance="10.00", currency="USD")
        add_asset(session, who, "AAPL", quantity="1", value="150.00")
        add_spending(session, who, "groceries", month="2025-01", amount="12.30")
        add_derivative(session, who)
        add_transactions(session, transaction_rows(who, 25, account_id=account))
    before = _owned_rows(session, owner)
    assert all(before.values()), before

    response = client.delete(f"/customer/{customer.customer_oid}", headers=admin_headers)
    assert response.status_code == 200
    assert response.json() == {
        "customer_oid": customer.customer_oid,
        "message": "Customer and all associated data deleted successfully",
    }
    session.commit()  # end the read snapshot taken before the delete
    assert set(_owned_rows(session, owner).values()) == {0}
    assert _owned_rows(session, bystander) == {**before, "user": 1, "account": 2}
    orphans = session.exec(
        select(func.count())
        .select_from(AuthSession)
        .where(col(AuthSession.user_id).not_in(select(User.id)))
    ).one()
    assert orphans == 0
    # The deleted customer's token stops working at once; its refresh token is gone too.
    assert client.get("/customers/me", headers=customer.headers).status_code == 401
    refreshed = client.post("/auth/refresh", json={"refresh_token": customer.refresh_token})
    assert refreshed.status_code == 401
    assert client.get("/customers/me", headers=other_customer.headers).status_code == 200


def test_foreign_keys_leave_no_orphans_anywhere(
    client: TestClient, session: Session, admin_headers: dict[str, str], customer: AuthedUser
) -> None:
    add_transactions(session, transaction_rows(uuid.UUID(customer.customer_oid), 5))
    client.delete(f"/customer/{customer.customer_oid}", headers=admin_headers)
    if session.get_bind().dialect.name == "sqlite":
        assert session.execute(text("PRAGMA foreign_key_check")).all() == []
    for table in ("account", "asset", "transaction", "spending", "derivative_transaction", "user"):
        orphans = session.execute(
            text(
                f'SELECT count(*) FROM "{table}" t WHERE t.customer_id IS NOT NULL AND '
                "NOT EXISTS (SELECT 1 FROM customer c WHERE c.id = t.customer_id)"
            )
        ).scalar_one()
        assert orphans == 0, table


def test_delete_unknown_customer_is_404(client: TestClient, admin_headers: dict[str, str]) -> None:
    oid = str(uuid.uuid4())
    response = client.delete(f"/customer/{oid}", headers=admin_headers)
    assert response.status_code == 404
    assert response.json() == {"detail": f"Customer with CustomerOID '{oid}' not found"}


def test_delete_customer_gates_and_malformed_oid(
    client: TestClient,
    analyst_headers: dict[str, str],
    admin_headers: dict[str, str],
    customer: AuthedUser,
) -> None:
    path = f"/customer/{customer.customer_oid}"
    assert client.delete(path).status_code == 401
    assert client.delete(path, headers=customer.headers).status_code == 403
    assert client.delete(path, headers=analyst_headers).status_code == 403
    malformed = client.delete("/customer/12345", headers=admin_headers)
    assert malformed.status_code == 400
    assert malformed.json() == {"detail": "Invalid CustomerOID format"}
    assert client.get("/customers/me", headers=customer.headers).status_code == 200


def test_a_customer_registered_by_name_can_be_deleted(
    client: TestClient, session: Session, admin_headers: dict[str, str]
) -> None:
    oid = register(client, admin_headers, "Short Lived")
    add_asset(session, uuid.UUID(oid), "BTC", quantity="0.5", value="20000.00")
    assert client.delete(f"/customer/{oid}", headers=admin_headers).status_code == 200
    assert client.delete(f"/customer/{oid}", headers=admin_headers).status_code == 404
    assert session.exec(select(func.count()).select_from(Asset)).one() == 0
