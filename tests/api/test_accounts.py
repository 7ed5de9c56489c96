from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from schwifty import IBAN
from sqlalchemy import delete
from sqlalchemy.engine import Engine

from app.core.db import new_session
from app.models.account import Account
from tests.utils.auth import AuthedUser
from tests.utils.db import count_rows


def open_account(
    client: TestClient, user: AuthedUser, account_type: str, currency: str | None = None
) -> Any:
    body: dict[str, Any] = {"account_type": account_type}
    if currency is not None:
        body["currency"] = currency
    return client.post("/accounts/open", json=body, headers=user.headers)


# Opening


def test_open_saving_account_in_usd(client: TestClient, customer: AuthedUser) -> None:
    response = open_account(client, customer, "saving", "USD")
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {
        "iban",
        "account_type",
        "balance",
        "available_balance",
        "currency",
        "created_at",
    }
    assert (body["account_type"], body["currency"], body["balance"]) == ("saving", "USD", "0.00")
    iban = IBAN(body["iban"])
    assert iban.bank_code == "OPNB"
    assert body["iban"] != customer.iban
    assert datetime.fromisoformat(body["created_at"]).tzinfo is not None


def test_open_defaults_to_eur_and_normalises_the_currency(
    client: TestClient, customer: AuthedUser
) -> None:
    investment = open_account(client, customer, "investment")
    assert investment.status_code == 201
    assert investment.json()["currency"] == "EUR"
    saving = open_account(client, customer, "saving", "gbp")
    assert saving.status_code == 201
    assert saving.json()["currency"] == "GBP"


def test_second_account_of_a_type_is_409(
    client: TestClient, customer: AuthedUser, engine: Engine
) -> None:
    assert open_account(client, customer, "saving", "USD").status_code == 201
    response = open_account(client, customer, "saving", "EUR")
    assert response.status_code == 409
    assert response.json() == {"detail": "Customer already has a saving account"}
    checking = open_account(client, customer, "checking", "USD")
    assert checking.status_code == 409
    assert checking.json() == {"detail": "Customer already has a checking account"}
    assert count_rows(engine, Account) == 2


def test_another_customer_may_open_the_same_type(
    client: TestClient, customer: AuthedUser, other_customer: AuthedUser
) -> None:
    assert open_account(client, customer, "saving").status_code == 201
    assert open_account(client, other_customer, "saving").status_code == 201


def test_unsupported_currency_is_422_until_an_admin_adds_it(
    client: TestClient, customer: AuthedUser, admin_headers: dict[str, str]
) -> None:
    response = open_account(client, customer, "saving", "CHF")
    assert response.status_code == 422
    assert response.json() == {"detail": "Currency CHF is not supported"}
    added = client.post("/admin/currencies", json={"code": "CHF"}, headers=admin_headers)
    assert added.status_code == 201
    response = open_account(client, customer, "saving", "CHF")
    assert response.status_code == 201
    assert response.json()["currency"] == "CHF"


def test_currency_removed_by_an_admin_can_no_longer_be_opened(
    client: TestClient, customer: AuthedUser, admin_headers: dict[str, str]
) -> None:
    assert client.delete("/admin/currencies/GBP", headers=admin_headers).status_code == 204
    response = open_account(client, customer, "saving", "GBP")
    assert response.status_code == 422
    assert response.json() == {"detail": "Currency GBP is not supported"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"account_type": "credit", "currency": "EUR"}, "account_type"),
        ({"account_type": "SAVING", "currency": "EUR"}, "account_type"),
        ({"currency": "EUR"}, "account_type"),
        ({"account_type": "saving", "currency": "EURO"}, "currency"),
        ({"account_type": "saving", "currency": "E"}, "currency"),
        ({"account_type": "saving", "currency": 978}, "currency"),
    ],
)
def test_invalid_open_request_is_422(
    client: TestClient, customer: AuthedUser, engine: Engine, body: dict[str, Any], field: str
) -> None:
    response = client.post("/accounts/open", json=body, headers=customer.headers)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", field]
    assert count_rows(engine, Account) == 1


def test_open_without_token_is_401(client: TestClient) -> None:
    response = client.post("/accounts/open", json={"account_type": "saving", "currency": "EUR"})
    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}
    assert response.headers["www-authenticate"] == "Bearer"


def test_open_for_staff_is_403(
    client: TestClient,
    admin_headers: dict[str, str],
    analyst_headers: dict[str, str],
    engine: Engine,
) -> None:
    for headers in (admin_headers, analyst_headers):
        response = client.post(
            "/accounts/open", json={"account_type": "saving", "currency": "EUR"}, headers=headers
        )
        assert response.status_code == 403
        assert response.json() == {"detail": "Only customers have accounts and portfolios"}
    assert count_rows(engine, Account) == 0


# Overview


def test_overview_lists_accounts_in_opening_order(client: TestClient, customer: AuthedUser) -> None:
    saving = open_account(client, customer, "saving", "USD").json()
    investment = open_account(client, customer, "investment", "GBP").json()
    response = client.get("/accounts/overview", headers=customer.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "3 account(s) found"
    assert [
        (a["iban"], a["account_type"], a["currency"], a["balance"]) for a in body["accounts"]
    ] == [
        (customer.iban, "checking", "EUR", "0.00"),
        (saving["iban"], "saving", "USD", "0.00"),
        (investment["iban"], "investment", "GBP", "0.00"),
    ]
    for account in body["accounts"]:
        assert set(account) == {
            "iban",
            "account_type",
            "balance",
            "available_balance",
            "currency",
            "created_at",
        }
        assert isinstance(account["balance"], str)


def test_overview_shows_only_the_callers_accounts(
    client: TestClient, customer: AuthedUser, other_customer: AuthedUser
) -> None:
    open_account(client, other_customer, "saving", "USD")
    mine = client.get("/accounts/overview", headers=customer.headers).json()
    theirs = client.get("/accounts/overview", headers=other_customer.headers).json()
    assert [a["iban"] for a in mine["accounts"]] == [customer.iban]
    assert mine["message"] == "1 account(s) found"
    assert len(theirs["accounts"]) == 2
    assert customer.iban not in {a["iban"] for a in theirs["accounts"]}


def test_overview_with_no_accounts_is_an_empty_list(
    client: TestClient, customer: AuthedUser, engine: Engine
) -> None:
    with new_session(engine) as session:
        session.execute(delete(Account))
        session.commit()
    response = client.get("/accounts/overview", headers=customer.headers)
    assert response.status_code == 200
    assert response.json() == {"message": "No accounts yet", "accounts": [], "pending": []}


def test_overview_without_token_is_401(client: TestClient) -> None:
    response = client.get("/accounts/overview")
    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}
    assert response.headers["www-authenticate"] == "Bearer"


def test_overview_for_staff_is_403(
    client: TestClient, admin_headers: dict[str, str], analyst_headers: dict[str, str]
) -> None:
    for headers in (admin_headers, analyst_headers):
        response = client.get("/accounts/overview", headers=headers)
        assert response.status_code == 403
        assert response.json() == {"detail": "Only customers have accounts and portfolios"}
