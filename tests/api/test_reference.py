from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.utils.auth import AuthedUser, registration_body

DEFAULT_COUNTRIES = [
    {"iso_code": "BE", "name": "Belgium"},
    {"iso_code": "DE", "name": "Germany"},
    {"iso_code": "NL", "name": "Netherlands"},
]
DEFAULT_CURRENCIES = [
    {"code": "EUR", "name": "Euro"},
    {"code": "GBP", "name": "Pound Sterling"},
    {"code": "USD", "name": "US Dollar"},
]

ADMIN_ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/admin/countries", None),
    ("POST", "/admin/countries", {"iso_code": "FR"}),
    ("DELETE", "/admin/countries/NL", None),
    ("GET", "/admin/currencies", None),
    ("POST", "/admin/currencies", {"code": "CHF"}),
    ("DELETE", "/admin/currencies/GBP", None),
]


# Public lists


def test_public_country_list_has_the_defaults(client: TestClient) -> None:
    response = client.get("/countries")
    assert response.status_code == 200
    assert response.json() == DEFAULT_COUNTRIES


def test_public_currency_list_has_the_defaults(client: TestClient) -> None:
    response = client.get("/currencies")
    assert response.status_code == 200
    assert response.json() == DEFAULT_CURRENCIES


# Who may use the admin routes


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES)
def test_admin_routes_need_a_token(
    client: TestClient, method: str, path: str, body: dict[str, Any] | None
) -> None:
    response = client.request(method, path, json=body)
    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES)
def test_admin_routes_are_forbidden_to_customers(
    client: TestClient,
    customer: AuthedUser,
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    response = client.request(method, path, json=body, headers=customer.headers)
    assert response.status_code == 403
    assert response.json() == {"detail": "Not enough permissions"}


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES)
def test_admin_routes_are_forbidden_to_analysts(
    client: TestClient,
    analyst_headers: dict[str, str],
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    response = client.request(method, path, json=body, headers=analyst_headers)
    assert response.status_code == 403
    assert response.json() == {"detail": "Not enough permissions"}


def test_forbidden_requests_change_nothing(
    client: TestClient, customer: AuthedUser, analyst_headers: dict[str, str]
) -> None:
    for headers in (customer.headers, analyst_headers):
        assert client.delete("/admin/countries/NL", headers=headers).status_code == 403
        assert (
            client.post("/admin/currencies", json={"code": "CHF"}, headers=headers).status_code
            == 403
        )
    assert client.get("/countries").json() == DEFAULT_COUNTRIES
    assert client.get("/currencies").json() == DEFAULT_CURRENCIES


# Countries


def test_admin_lists_countries(client: TestClient, admin_headers: dict[str, str]) -> None:
    response = client.get("/admin/countries", headers=admin_headers)
    assert response.status_code == 200
    assert response.json() == DEFAULT_COUNTRIES


def test_admin_adds_a_country_normalising_the_code(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    response = client.post("/admin/countries", json={"iso_code": "fr"}, headers=admin_headers)
    assert response.status_code == 201
    assert response.json() == {"iso_code": "FR", "name": "France"}
    assert {"iso_code": "FR", "name": "France"} in client.get("/countries").json()


def test_an_added_country_opens_registration(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    body = registration_body("pierre", country="FR")
    assert client.post("/customers/register", json=body).status_code == 403
    assert (
        client.post("/admin/countries", json={"iso_code": "FR"}, headers=admin_headers).status_code
        == 201
    )
    response = client.post("/customers/register", json=body)
    assert response.status_code == 201
    assert response.json()["username"] == "pierre"


def test_adding_an_allowed_country_again_is_409(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    response = client.post("/admin/countries", json={"iso_code": "nl"}, headers=admin_headers)
    assert response.status_code == 409
    assert response.json() == {"detail": "Country NL is already allowed"}
    assert client.get("/countries").json() == DEFAULT_COUNTRIES


@pytest.mark.parametrize("code", ["XX", "zz", "Q1"])
def test_adding_a_non_iso_country_is_422(
    client: TestClient, admin_headers: dict[str, str], code: str
) -> None:
    response = client.post("/admin/countries", json={"iso_code": code}, headers=admin_headers)
    assert response.status_code == 422
    assert response.json() == {"detail": f"'{code}' is not an ISO 3166-1 alpha-2 country code"}
    assert client.get("/countries").json() == DEFAULT_COUNTRIES


@pytest.mark.parametrize("body", [{}, {"iso_code": "FRA"}, {"iso_code": "F"}, {"iso_code": 12}])
def test_adding_a_malformed_country_is_422(
    client: TestClient, admin_headers: dict[str, str], body: dict[str, Any]
) -> None:
    response = client.post("/admin/countries", json=body, headers=admin_headers)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "iso_code"]


def test_admin_removes_a_country_case_insensitively(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    response = client.delete("/admin/countries/nl", headers=admin_headers)
    assert response.status_code == 204
    assert response.content == b""
    assert [c["iso_code"] for c in client.get("/countries").json()] == ["BE", "DE"]
    registration = client.post("/customers/register", json=registration_body("late.dutch"))
    assert registration.status_code == 403
    assert registration.json() == {"detail": "Registration not allowed from this country"}


def test_removing_a_country_not_allowed_is_404(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    response = client.delete("/admin/countries/FR", headers=admin_headers)
    assert response.status_code == 404
    assert response.json() == {"detail": "Country FR is not in the allowed list"}


def test_removing_a_country_twice_is_404_the_second_time(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    assert client.delete("/admin/countries/BE", headers=admin_headers).status_code == 204
    response = client.delete("/admin/countries/BE", headers=admin_headers)
    assert response.status_code == 404
    assert response.json() == {"detail": "Country BE is not in the allowed list"}


# Currencies


def test_admin_lists_currencies(client: TestClient, admin_headers: dict[str, str]) -> None:
    response = client.get("/admin/currencies", headers=admin_headers)
    assert response.status_code == 200
    assert response.json() == DEFAULT_CURRENCIES


def test_admin_adds_a_currency_normalising_the_code(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    response = client.post("/admin/currencies", json={"code": "chf"}, headers=admin_headers)
    assert response.status_code == 201
    assert response.json() == {"code": "CHF", "name": "Swiss Franc"}
    assert [c["code"] for c in client.get("/currencies").json()] == ["CHF", "EUR", "GBP", "USD"]


def test_adding_a_supported_currency_again_is_409(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    response = client.post("/admin/currencies", json={"code": "eur"}, headers=admin_headers)
    assert response.status_code == 409
    assert response.json() == {"detail": "Currency EUR is already supported"}


@pytest.mark.parametrize("code", ["ZZZ", "abc", "E1R"])
def test_adding_a_non_iso_currency_is_422(
    client: TestClient, admin_headers: dict[str, str], code: str
) -> None:
    response = client.post("/admin/currencies", json={"code": code}, headers=admin_headers)
    assert response.status_code == 422
    assert response.json() == {"detail": f"'{code}' is not an ISO 4217 currency code"}
    assert client.get("/currencies").json() == DEFAULT_CURRENCIES


@pytest.mark.parametrize("body", [{}, {"code": "EURO"}, {"code": "EU"}, {"code": None}])
def test_adding_a_malformed_currency_is_422(
    client: TestClient, admin_headers: dict[str, str], body: dict[str, Any]
) -> None:
    response = client.post("/admin/currencies", json=body, headers=admin_headers)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "code"]


def test_admin_removes_an_unused_currency(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    response = client.delete("/admin/currencies/gbp", headers=admin_headers)
    assert response.status_code == 204
    assert response.content == b""
    assert [c["code"] for c in client.get("/currencies").json()] == ["EUR", "USD"]


def test_removing_a_currency_in_use_is_409(
    client: TestClient, admin_headers: dict[str, str], customer: AuthedUser
) -> None:
    # The customer's first (checking) account is in EUR.
    response = client.delete("/admin/currencies/EUR", headers=admin_headers)
    assert response.status_code == 409
    assert response.json() == {"detail": "Currency EUR is used by accounts and cannot be removed"}
    assert client.get("/currencies").json() == DEFAULT_CURRENCIES


def test_removing_an_unsupported_currency_is_404(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    response = client.delete("/admin/currencies/CHF", headers=admin_headers)
    assert response.status_code == 404
    assert response.json() == {"detail": "Currency CHF is not supported"}
