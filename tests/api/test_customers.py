import string
import threading
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from schwifty import IBAN
from sqlalchemy.engine import Engine

from app.models.account import Account
from app.models.customer import Customer
from app.models.user import Role, User
from app.services import clock as clock_service
from tests.utils.auth import (
    DEFAULT_PASSWORD,
    AuthedUser,
    bearer,
    logon,
    register_customer,
    registration_body,
)
from tests.utils.db import count_rows, get_user

FIXED_NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def fixed_today(monkeypatch: pytest.MonkeyPatch) -> date:
    """Registration's idea of 'today' (the sandbox's clock, on the wall clock until moved) is
    2026-03-15 (UTC)."""
    monkeypatch.setattr(clock_service, "utcnow", lambda: FIXED_NOW)
    return FIXED_NOW.date()


def assert_no_secrets(response: Response) -> None:
    assert "password_hash" not in response.text
    assert "$2b$" not in response.text


def validation_messages(response: Response) -> list[str]:
    detail = response.json()["detail"]
    return [detail] if isinstance(detail, str) else [error["msg"] for error in detail]


# The happy path


def test_register_returns_login_and_first_account(client: TestClient) -> None:
    response = client.post("/customers/register", json=registration_body("alice"))
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"message", "customer_oid", "username", "password", "account"}
    assert body["message"] == "Registration successful"
    assert body["username"] == "alice"
    # The password the customer chose is never echoed; only a generated one is shown.
    assert body["password"] is None
    assert DEFAULT_PASSWORD not in response.text
    assert response.headers["cache-control"] == "no-store"
    account = body["account"]
    assert set(account) == {
        "iban",
        "account_type",
        "balance",
        "available_balance",
        "currency",
        "created_at",
    }
    assert account["account_type"] == "checking"
    assert account["currency"] == "EUR"
    assert account["balance"] == "0.00"
    iban = IBAN(account["iban"])  # raises when the checksum or format is wrong
    assert iban.country_code == "NL"
    assert iban.bank_code == "OPNB"
    assert datetime.fromisoformat(account["created_at"]).tzinfo is not None
    assert_no_secrets(response)


def test_registered_customer_oid_is_the_profile_oid(
    client: TestClient, customer: AuthedUser
) -> None:
    response = client.get("/customers/me", headers=customer.headers)
    assert response.status_code == 200
    assert response.json()["customer_oid"] == customer.customer_oid


def test_generated_password_is_returned_and_works(client: TestClient) -> None:
    body = registration_body("gen.user")
    del body["password"]
    response = client.post("/customers/register", json=body)
    assert response.status_code == 201
    password = response.json()["password"]
    assert len(password) == 16
    assert any(c in string.ascii_lowercase for c in password)
    assert any(c in string.ascii_uppercase for c in password)
    assert any(c in string.digits for c in password)
    assert any(not c.isalnum() for c in password)
    tokens = logon(client, "gen.user", password)
    assert tokens["token_type"] == "bearer"


def test_explicit_null_password_is_generated_too(client: TestClient) -> None:
    response = client.post("/customers/register", json=registration_body("null.pw", password=None))
    assert response.status_code == 201
    password = response.json()["password"]
    assert len(password) == 16
    assert logon(client, "null.pw", password)["message"] == "Logon successful"


def test_username_is_stored_in_lower_case(client: TestClient) -> None:
    response = client.post("/customers/register", json=registration_body("Mixed.Case"))
    assert response.status_code == 201
    assert response.json()["username"] == "mixed.case"
    assert logon(client, "MIXED.case", DEFAULT_PASSWORD)["message"] == "Logon successful"


def test_country_is_accepted_in_lower_case(client: TestClient) -> None:
    response = client.post("/customers/register", json=registration_body("belg", country="be"))
    assert response.status_code == 201
    headers = bearer(logon(client, "belg", DEFAULT_PASSWORD)["access_token"])
    assert client.get("/customers/me", headers=headers).json()["country"] == "BE"


def test_unknown_fields_are_ignored(client: TestClient, engine: Engine) -> None:
    body = registration_body("sneaky", role="admin", balance="1000", is_admin=True)
    response = client.post("/customers/register", json=body)
    assert response.status_code == 201
    assert response.json()["account"]["balance"] == "0.00"
    user = get_user(engine, "sneaky")
    assert user is not None
    assert user.role == Role.customer
    headers = bearer(logon(client, "sneaky", DEFAULT_PASSWORD)["access_token"])
    overview = client.get("/accounts/overview", headers=headers).json()
    assert [a["balance"] for a in overview["accounts"]] == ["0.00"]
    admin = client.get("/admin/countries", headers=headers)
    assert admin.status_code == 403


# Country


def test_registration_from_a_country_not_allowed_is_403(client: TestClient, engine: Engine) -> None:
    response = client.post("/customers/register", json=registration_body("pierre", country="FR"))
    assert response.status_code == 403
    assert response.json() == {"detail": "Registration not allowed from this country"}
    assert count_rows(engine, Customer) == 0
    assert count_rows(engine, User) == 0


@pytest.mark.parametrize("country", ["XX", "ZZ", "xx", "QM"])
def test_registration_with_a_well_formed_unknown_country_is_403(
    client: TestClient, engine: Engine, country: str
) -> None:
    """The retail API's clients register with "XX" and expect the refusal, not a 422: any two
    letters that are not on the allowed list, known to ISO 3166 or not, are a country not
    allowed."""
    response = client.post("/customers/register", json=registration_body("x.user", country=country))
    assert response.status_code == 403
    assert response.json() == {"detail": "Registration not allowed from this country"}
    assert count_rows(engine, Customer) == 0


@pytest.mark.parametrize("country", ["NLD", "N", "", "1A", "N1", "--", "\u00c4\u00d6", "N "])
def test_registration_with_a_malformed_country_is_422(client: TestClient, country: str) -> None:
    response = client.post("/customers/register", json=registration_body("x.user", country=country))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "country"]


# Date of birth


@pytest.mark.usefixtures("fixed_today")
def test_exactly_eighteen_today_may_register(client: TestClient) -> None:
    response = client.post("/customers/register", json=registration_body("adult", dob="2008-03-15"))
    assert response.status_code == 201
    assert response.json()["username"] == "adult"


@pytest.mark.usefixtures("fixed_today")
@pytest.mark.parametrize(
    ("dob", "message"),
    [
        ("2008-03-16", "Customer must be at least 18 years old"),  # eighteen tomorrow
        ("2020-01-01", "Customer must be at least 18 years old"),
        ("2026-03-16", "Date of birth cannot be in the future"),
        ("2999-01-01", "Date of birth cannot be in the future"),
        ("1899-12-31", "Date of birth cannot be before 1900"),
    ],
)
def test_date_of_birth_rules_are_422(
    client: TestClient, engine: Engine, dob: str, message: str
) -> None:
    response = client.post("/customers/register", json=registration_body("minor", dob=dob))
    assert response.status_code == 422
    assert response.json() == {"detail": message}
    assert count_rows(engine, Customer) == 0


@pytest.mark.usefixtures("fixed_today")
def test_born_in_1900_may_register(client: TestClient) -> None:
    response = client.post("/customers/register", json=registration_body("elder", dob="1900-01-01"))
    assert response.status_code == 201


@pytest.mark.parametrize("dob", ["2001-02-30", "17/05/1990", "", None, 19900517])
def test_malformed_date_of_birth_is_422(client: TestClient, dob: Any) -> None:
    response = client.post("/customers/register", json=registration_body("baddate", dob=dob))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "dob"]


def test_exactly_eighteen_today_with_the_real_clock(client: TestClient) -> None:
    today = datetime.now(UTC).date()
    if (today.month, today.day) == (2, 29):
        today = today.replace(day=28)  # nobody was born on 29 February 18 years ago
    born = today.replace(year=today.year - 18)
    response = client.post(
        "/customers/register", json=registration_body("today18", dob=born.isoformat())
    )
    assert response.status_code == 201


# Field validation


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "A"),
        ("name", "A" * 101),
        ("name", "   "),
        ("address", "Dam"),
        ("address", "x" * 201),
        ("id_document", "1234"),
        ("id_document", "x" * 51),
        ("username", "ab"),
        ("username", "a" * 21),
        ("username", "bad name"),
        ("username", "bad@name"),
        ("username", "ünïcode"),
        ("username", "semi;colon"),
        ("username", "trailing\n"),
        ("password", "short-pw-11"),
        ("password", "é" * 37),  # 37 characters, but 74 bytes in UTF-8
        ("password", "€" * 25),  # 25 characters, 75 bytes
        ("password", "a" * 73),
        ("name", None),
        ("username", 12345),
    ],
)
def test_invalid_fields_are_422(client: TestClient, engine: Engine, field: str, value: Any) -> None:
    body = registration_body("valid.user")
    body[field] = value
    response = client.post("/customers/register", json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", field]
    assert count_rows(engine, Customer) == 0


@pytest.mark.parametrize("field", ["name", "dob", "address", "country", "id_document", "username"])
def test_missing_required_field_is_422(client: TestClient, field: str) -> None:
    body = registration_body("valid.user")
    del body[field]
    response = client.post("/customers/register", json=body)
    assert response.status_code == 422
    echoed = {**body, "password": "[redacted]"}  # a secret is never echoed
    assert response.json()["detail"] == [
        {"type": "missing", "loc": ["body", field], "msg": "Field required", "input": echoed}
    ]


def test_password_over_72_bytes_says_so(client: TestClient) -> None:
    response = client.post("/customers/register", json=registration_body("u.x", password="é" * 37))
    assert response.status_code == 422
    assert any("at most 72 bytes" in m for m in validation_messages(response))


@pytest.mark.parametrize(
    "password", ["é" * 36, "a" * 72, "twelve-chars", "€" * 24]
)  # 72, 72, 12 and 72 bytes
def test_password_limits_are_inclusive_and_count_bytes(client: TestClient, password: str) -> None:
    response = client.post(
        "/customers/register", json=registration_body("edge.pw", password=password)
    )
    assert response.status_code == 201
    assert logon(client, "edge.pw", password)["message"] == "Logon successful"


@pytest.mark.parametrize("username", ["abc", "a" * 20, "j.doe_1-x", "A.B"])
def test_username_limits_are_inclusive(client: TestClient, username: str) -> None:
    response = client.post("/customers/register", json=registration_body(username))
    assert response.status_code == 201
    assert response.json()["username"] == username.lower()


@pytest.mark.parametrize(
    "name", ["\u0000\u0000\u0000", "Nul\u0000Byte", "\t\r\n", "\u200b\u200b", "\u3000\u3000"]
)
def test_a_name_without_a_visible_character_is_422(
    client: TestClient, engine: Engine, name: str
) -> None:
    response = client.post("/customers/register", json=registration_body("blank", name=name))
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "name"]
    assert count_rows(engine, Customer) == 0


def test_surrounding_spaces_in_name_are_stripped(client: TestClient) -> None:
    response = client.post(
        "/customers/register", json=registration_body("spaced", name="  Jo Doe  ")
    )
    assert response.status_code == 201
    headers = bearer(logon(client, "spaced", DEFAULT_PASSWORD)["access_token"])
    assert client.get("/customers/me", headers=headers).json()["name"] == "Jo Doe"


# Uniqueness and all-or-nothing


@pytest.mark.parametrize("username", ["alice", "ALICE", "Alice"])
def test_taken_username_is_409_ignoring_case(
    client: TestClient, engine: Engine, customer: AuthedUser, username: str
) -> None:
    body = registration_body(username, name="Another Alice", id_document="XY9876543")
    response = client.post("/customers/register", json=body)
    assert response.status_code == 409
    assert response.json() == {"detail": "Username already exists"}
    # All or nothing: no second customer, user or account was left behind.
    assert count_rows(engine, Customer) == 1
    assert count_rows(engine, User) == 1
    assert count_rows(engine, Account) == 1
    # And the first customer's password is untouched.
    assert logon(client, "alice", customer.password)["message"] == "Logon successful"


def test_registration_failing_at_the_account_leaves_nothing(
    client: TestClient, engine: Engine, admin_headers: dict[str, str]
) -> None:
    # Without EUR the first account cannot be opened: the customer and login must go too.
    assert client.delete("/admin/currencies/EUR", headers=admin_headers).status_code == 204
    response = client.post("/customers/register", json=registration_body("nobody.home"))
    assert response.status_code == 422
    assert response.json() == {"detail": "Currency EUR is not supported"}
    assert count_rows(engine, Customer) == 0
    assert count_rows(engine, User, User.role == Role.customer) == 0
    assert count_rows(engine, Account) == 0
    assert (
        client.post("/admin/currencies", json={"code": "EUR"}, headers=admin_headers).status_code
        == 201
    )
    assert (
        client.post("/customers/register", json=registration_body("nobody.home")).status_code == 201
    )


def test_concurrent_registrations_of_one_username_give_one_201_and_one_409(
    app: FastAPI, client: TestClient, engine: Engine
) -> None:
    barrier = threading.Barrier(2)
    outcomes: list[Response | BaseException | None] = [None, None]

    def register(index: int) -> None:
        worker = TestClient(app)  # its own client (and event loop) on the same app
        try:
            body = registration_body("carol", id_document=f"ID{index}-99999")
            barrier.wait(timeout=60)  # a guard against a hang if the other thread died
            outcomes[index] = worker.post("/customers/register", json=body)
        except BaseException as exc:  # surfaced by the assertions below
            outcomes[index] = exc
        finally:
            worker.close()

    threads = [threading.Thread(target=register, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)

    responses = [outcome for outcome in outcomes if isinstance(outcome, Response)]
    assert len(responses) == 2, outcomes
    by_status = {r.status_code: r for r in responses}
    assert sorted(r.status_code for r in responses) == [201, 409]
    assert by_status[409].json() == {"detail": "Username already exists"}
    assert by_status[201].json()["username"] == "carol"
    assert count_rows(engine, User, User.username == "carol") == 1
    assert count_rows(engine, Customer) == 1
    assert count_rows(engine, Account) == 1
    assert logon(client, "carol", DEFAULT_PASSWORD)["message"] == "Logon successful"


# The profile


def test_me_returns_the_profile_with_the_document_masked(
    client: TestClient, customer: AuthedUser
) -> None:
    response = client.get("/customers/me", headers=customer.headers)
    assert response.status_code == 200
    body = response.json()
    created_at = body.pop("created_at")
    assert datetime.fromisoformat(created_at).tzinfo is not None
    assert body == {
        "customer_oid": customer.customer_oid,
        "name": "Alice Example",
        "username": "alice",
        "date_of_birth": "1990-05-17",
        "address": "Damrak 1, 1012 LG Amsterdam",
        "country": "NL",
        "id_document": "*****567",
    }
    assert "NL1234567" not in response.text
    assert_no_secrets(response)


def test_me_shows_each_customer_their_own_profile(
    client: TestClient, customer: AuthedUser, other_customer: AuthedUser
) -> None:
    mine = client.get("/customers/me", headers=customer.headers).json()
    theirs = client.get("/customers/me", headers=other_customer.headers).json()
    assert (mine["username"], mine["name"]) == ("alice", "Alice Example")
    assert (theirs["username"], theirs["name"]) == ("bob", "Bob Builder")
    assert mine["customer_oid"] != theirs["customer_oid"]


def test_me_without_token_is_401(client: TestClient) -> None:
    response = client.get("/customers/me")
    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}
    assert response.headers["www-authenticate"] == "Bearer"


def test_me_for_staff_is_403(
    client: TestClient, admin_headers: dict[str, str], analyst_headers: dict[str, str]
) -> None:
    for headers in (admin_headers, analyst_headers):
        response = client.get("/customers/me", headers=headers)
        assert response.status_code == 403
        assert response.json() == {"detail": "Only customers have accounts and portfolios"}


def test_no_response_carries_the_password_hash(client: TestClient) -> None:
    registration = client.post("/customers/register", json=registration_body("hashless"))
    assert registration.status_code == 201
    assert_no_secrets(registration)
    logon_response = client.post(
        "/auth/logon", data={"username": "hashless", "password": DEFAULT_PASSWORD}
    )
    assert logon_response.status_code == 200
    assert_no_secrets(logon_response)
    me = client.get("/customers/me", headers=bearer(logon_response.json()["access_token"]))
    assert me.status_code == 200
    assert_no_secrets(me)


def test_helper_registers_distinct_customers(client: TestClient) -> None:
    first = register_customer(client, "first.one")
    second = register_customer(client, "second.one", id_document="BE7654321")
    assert first.customer_oid != second.customer_oid
    assert first.iban != second.iban
