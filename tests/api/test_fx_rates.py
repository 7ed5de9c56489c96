"""/admin/fx-rates: the reference rates the portfolio summary converts with."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.utils.auth import AuthedUser


def test_default_rates_are_there_from_the_first_start(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    response = client.get("/admin/fx-rates", headers=admin_headers)
    assert response.status_code == 200
    # CHF and JPY are in DEFAULT_FX_RATES but not supported currencies, so they are left out.
    assert [(r["base_currency"], r["quote_currency"], r["rate"]) for r in response.json()] == [
        ("EUR", "GBP", "0.855"),
        ("EUR", "USD", "1.085"),
    ]
    one = client.get("/admin/fx-rates/eur/usd", headers=admin_headers)
    assert one.status_code == 200
    assert one.json()["rate"] == "1.085"
    assert one.json()["updated_at"].endswith("Z")


def test_put_creates_then_replaces_a_rate(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    created = client.put("/admin/fx-rates/usd/gbp", json={"rate": "0.7880"}, headers=admin_headers)
    assert created.status_code == 201
    assert {k: created.json()[k] for k in ("base_currency", "quote_currency", "rate")} == {
        "base_currency": "USD",
        "quote_currency": "GBP",
        "rate": "0.788",
    }
    replaced = client.put(
        "/admin/fx-rates/USD/GBP", json={"rate": "0.12345678"}, headers=admin_headers
    )
    assert replaced.status_code == 200
    assert replaced.json()["rate"] == "0.12345678"
    listed = client.get("/admin/fx-rates", headers=admin_headers).json()
    assert ("USD", "GBP", "0.12345678") in [
        (r["base_currency"], r["quote_currency"], r["rate"]) for r in listed
    ]


def test_a_segment_that_is_no_currency_code_names_no_route(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    response = client.put("/admin/fx-rates/EURO/USD", json={"rate": "1"}, headers=admin_headers)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


@pytest.mark.parametrize(
    ("path", "body", "detail"),
    [
        ("/admin/fx-rates/EUR/USD", {"rate": "0"}, None),
        ("/admin/fx-rates/EUR/USD", {"rate": "-1.2"}, None),
        ("/admin/fx-rates/EUR/USD", {"rate": "1.123456789"}, None),
        ("/admin/fx-rates/EUR/USD", {"rate": "lots"}, None),
        ("/admin/fx-rates/EUR/USD", {"rate": "1_0"}, None),
        ("/admin/fx-rates/EUR/USD", {"rate": "\u0661.\u0660\u0668"}, None),  # Arabic-Indic
        ("/admin/fx-rates/EUR/USD", {"rate": " 1.08 "}, None),
        ("/admin/fx-rates/EUR/USD", {"rate": "1.085E0"}, None),
        ("/admin/fx-rates/EUR/USD", {"rate": ".5"}, None),
        ("/admin/fx-rates/EUR/USD", {}, None),
        ("/admin/fx-rates/EUR/EUR", {"rate": "1"}, "Base and quote currency must differ"),
        ("/admin/fx-rates/EUR/XYZ", {"rate": "1"}, "Currency XYZ is not supported"),
    ],
)
def test_put_rejects_bad_rates(
    client: TestClient,
    admin_headers: dict[str, str],
    path: str,
    body: dict[str, Any],
    detail: str | None,
) -> None:
    response = client.put(path, json=body, headers=admin_headers)
    assert response.status_code == 422
    if detail:
        assert response.json() == {"detail": detail}
    rate = client.get("/admin/fx-rates/EUR/USD", headers=admin_headers).json()["rate"]
    assert rate == "1.085"  # unchanged


def test_delete_a_rate(client: TestClient, admin_headers: dict[str, str]) -> None:
    deleted = client.delete("/admin/fx-rates/EUR/GBP", headers=admin_headers)
    assert deleted.status_code == 204
    again = client.delete("/admin/fx-rates/EUR/GBP", headers=admin_headers)
    assert again.status_code == 404
    assert again.json() == {"detail": "No FX rate for EUR/GBP"}
    assert client.get("/admin/fx-rates/EUR/GBP", headers=admin_headers).status_code == 404


def test_removing_a_currency_removes_its_rates(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    assert client.delete("/admin/currencies/GBP", headers=admin_headers).status_code == 204
    pairs = [
        (r["base_currency"], r["quote_currency"])
        for r in client.get("/admin/fx-rates", headers=admin_headers).json()
    ]
    assert pairs == [("EUR", "USD")]


def test_fx_rates_are_for_admins_only(
    client: TestClient, analyst_headers: dict[str, str], customer: AuthedUser
) -> None:
    assert client.get("/admin/fx-rates").status_code == 401
    assert client.get("/admin/fx-rates", headers=analyst_headers).status_code == 403
    assert client.get("/admin/fx-rates", headers=customer.headers).status_code == 403
    put = client.put("/admin/fx-rates/EUR/USD", json={"rate": "2"}, headers=analyst_headers)
    assert put.status_code == 403
    assert client.delete("/admin/fx-rates/EUR/USD", headers=customer.headers).status_code == 403
