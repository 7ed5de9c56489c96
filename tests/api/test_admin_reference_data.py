"""Admin reference data that FX rates and portfolios depend on: currencies and countries."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.utils.auth import AuthedUser


def test_currencies_are_iso_checked_and_unique(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    added = client.post("/admin/currencies", json={"code": "chf"}, headers=admin_headers)
    assert added.status_code == 201
    assert added.json() == {"code": "CHF", "name": "Swiss Franc"}
    again = client.post("/admin/currencies", json={"code": "CHF"}, headers=admin_headers)
    assert again.status_code == 409
    unknown = client.post("/admin/currencies", json={"code": "XYZ"}, headers=admin_headers)
    assert unknown.status_code == 422
    assert unknown.json() == {"detail": "'XYZ' is not an ISO 4217 currency code"}
    codes = [c["code"] for c in client.get("/currencies").json()]
    assert codes == ["CHF", "EUR", "GBP", "USD"]
    assert [
        c["code"] for c in client.get("/admin/currencies", headers=admin_headers).json()
    ] == codes


def test_a_currency_in_use_cannot_be_removed(
    client: TestClient, admin_headers: dict[str, str], customer: AuthedUser
) -> None:
    in_use = client.delete("/admin/currencies/EUR", headers=admin_headers)
    assert in_use.status_code == 409
    assert in_use.json() == {"detail": "Currency EUR is used by accounts and cannot be removed"}
    assert client.delete("/admin/currencies/CHF", headers=admin_headers).status_code == 404


def test_countries_can_be_allowed_and_removed(
    client: TestClient, admin_headers: dict[str, str], analyst_headers: dict[str, str]
) -> None:
    added = client.post("/admin/countries", json={"iso_code": "fr"}, headers=admin_headers)
    assert added.status_code == 201
    assert added.json() == {"iso_code": "FR", "name": "France"}
    assert (
        client.post("/admin/countries", json={"iso_code": "FR"}, headers=admin_headers).status_code
        == 409
    )
    assert (
        client.post("/admin/countries", json={"iso_code": "QQ"}, headers=admin_headers).status_code
        == 422
    )
    listed = client.get("/admin/countries", headers=admin_headers).json()
    assert [c["iso_code"] for c in listed] == ["BE", "DE", "FR", "NL"]
    assert [c["iso_code"] for c in client.get("/countries").json()] == ["BE", "DE", "FR", "NL"]
    assert client.delete("/admin/countries/fr", headers=admin_headers).status_code == 204
    assert client.delete("/admin/countries/FR", headers=admin_headers).status_code == 404
    assert client.get("/admin/countries", headers=analyst_headers).status_code == 403
