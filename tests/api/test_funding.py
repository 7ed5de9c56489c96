"""Sandbox funding: admins deposit into and withdraw from accounts against the funding account."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.utils.auth import AuthedUser
from tests.utils.money import assert_ledger_consistent, balance_of, deposit, open_account


def test_deposit_credits_the_account_against_the_funding_account(
    client: TestClient, engine: Engine, customer: AuthedUser, admin_headers: dict[str, str]
) -> None:
    response = client.post(
        f"/admin/accounts/{customer.iban}/deposit",
        json={"amount": "250.75", "description": "  Sandbox top-up  "},
        headers=admin_headers,
    )

    assert response.status_code == 201
    body = response.json()
    assert body["kind"] == "deposit"
    assert body["iban"] == customer.iban
    assert body["amount"] == "250.75"
    assert body["currency"] == "EUR"
    assert body["balance"] == "250.75"
    assert body["description"] == "Sandbox top-up"
    assert isinstance(body["id"], int)
    assert body["created_at"].endswith("Z")
    assert balance_of(client, customer.headers, customer.iban) == "250.75"
    totals = assert_ledger_consistent(engine)
    assert totals.customer_balances == {"EUR": Decimal("250.75")}
    assert totals.funding_balances == {"EUR": Decimal("-250.75")}
    assert totals.entries_by_kind == {"deposit": 1}


def test_withdraw_debits_the_account(
    client: TestClient, engine: Engine, customer: AuthedUser, admin_headers: dict[str, str]
) -> None:
    deposit(client, admin_headers, customer.iban, "100.00")

    response = client.post(
        f"/admin/accounts/{customer.iban}/withdraw",
        json={"amount": "30.10"},
        headers=admin_headers,
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["kind"], body["amount"], body["balance"], body["description"]) == (
        "withdrawal",
        "30.10",
        "69.90",
        "",
    )
    totals = assert_ledger_consistent(engine)
    assert totals.customer_balances == {"EUR": Decimal("69.90")}
    assert totals.entries_by_kind == {"deposit": 1, "withdrawal": 1}


def test_withdraw_more_than_the_balance_is_refused_and_writes_nothing(
    client: TestClient, engine: Engine, customer: AuthedUser, admin_headers: dict[str, str]
) -> None:
    deposit(client, admin_headers, customer.iban, "20.00")

    response = client.post(
        f"/admin/accounts/{customer.iban}/withdraw",
        json={"amount": "20.01"},
        headers=admin_headers,
    )

    assert response.status_code == 422
    assert response.json() == {
        "detail": f"Insufficient funds in account {customer.iban}: balance 20.00 EUR, "
        "needed 20.01 EUR"
    }
    assert balance_of(client, customer.headers, customer.iban) == "20.00"
    totals = assert_ledger_consistent(engine)
    assert (totals.entries, totals.postings) == (1, 2)


def test_withdraw_the_whole_balance_leaves_zero(
    client: TestClient, customer: AuthedUser, admin_headers: dict[str, str]
) -> None:
    deposit(client, admin_headers, customer.iban, "20.00")
    response = client.post(
        f"/admin/accounts/{customer.iban}/withdraw", json={"amount": "20"}, headers=admin_headers
    )
    assert response.status_code == 201
    assert response.json()["balance"] == "0.00"


def test_funding_keeps_one_funding_account_per_currency(
    client: TestClient, engine: Engine, customer: AuthedUser, admin_headers: dict[str, str]
) -> None:
    usd = open_account(client, customer.headers, "saving", "USD")
    deposit(client, admin_headers, customer.iban, "10.00")
    deposit(client, admin_headers, usd, "7.00")
    deposit(client, admin_headers, usd, "3.00")

    totals = assert_ledger_consistent(engine)
    assert totals.customer_balances == {"EUR": Decimal("10.00"), "USD": Decimal("10.00")}
    assert totals.funding_balances == {"EUR": Decimal("-10.00"), "USD": Decimal("-10.00")}


def test_iban_in_the_path_may_have_spaces_and_lower_case(
    client: TestClient, customer: AuthedUser, admin_headers: dict[str, str]
) -> None:
    printed = " ".join(customer.iban[i : i + 4] for i in range(0, len(customer.iban), 4))
    response = client.post(
        f"/admin/accounts/{printed.lower()}/deposit",
        json={"amount": "5.00"},
        headers=admin_headers,
    )
    assert response.status_code == 201
    assert response.json()["iban"] == customer.iban


def test_malformed_iban_in_the_path_is_400(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    response = client.post(
        "/admin/accounts/NL91ABNA0417164301/deposit", json={"amount": "5.00"}, headers=admin_headers
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "Invalid IBAN: Invalid checksum digits"}


def test_unknown_account_is_404(client: TestClient, admin_headers: dict[str, str]) -> None:
    # A valid IBAN, but of another bank.
    response = client.post(
        "/admin/accounts/NL91ABNA0417164300/withdraw",
        json={"amount": "5.00"},
        headers=admin_headers,
    )
    assert response.status_code == 404
    assert response.json() == {"detail": "Account NL91ABNA0417164300 not found"}


@pytest.mark.parametrize(
    "amount", ["0", "0.00", "-5.00", "1.001", "abc", "", "NaN", "Infinity", None]
)
def test_amount_must_be_positive_with_two_decimals_at_most(
    client: TestClient, customer: AuthedUser, admin_headers: dict[str, str], amount: str | None
) -> None:
    response = client.post(
        f"/admin/accounts/{customer.iban}/deposit", json={"amount": amount}, headers=admin_headers
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "amount"]


@pytest.mark.parametrize(
    "amount", ["\u0661\u0660", "1_000", " 5 ", "5.", ".5", "1E-2", "+5", "10.00\n"]
)
def test_amount_strings_are_plain_ascii_digits(
    client: TestClient,
    engine: Engine,
    customer: AuthedUser,
    admin_headers: dict[str, str],
    amount: str,
) -> None:
    for action in ("deposit", "withdraw"):
        response = client.post(
            f"/admin/accounts/{customer.iban}/{action}",
            json={"amount": amount},
            headers=admin_headers,
        )
        assert response.status_code == 422
        (error,) = response.json()["detail"]
        assert error["loc"] == ["body", "amount"]
        assert "ASCII digits with at most 2 decimals" in error["msg"]
    assert assert_ledger_consistent(engine).entries_by_kind == {}


def test_amounts_as_json_numbers_are_accepted(
    client: TestClient, customer: AuthedUser, admin_headers: dict[str, str]
) -> None:
    for amount in (10, 0.5, 1e-2):
        response = client.post(
            f"/admin/accounts/{customer.iban}/deposit",
            json={"amount": amount},
            headers=admin_headers,
        )
        assert response.status_code == 201, response.text
    assert balance_of(client, customer.headers, customer.iban) == "10.51"


def test_description_is_limited(
    client: TestClient, customer: AuthedUser, admin_headers: dict[str, str]
) -> None:
    response = client.post(
        f"/admin/accounts/{customer.iban}/deposit",
        json={"amount": "1.00", "description": "x" * 141},
        headers=admin_headers,
    )
    assert response.status_code == 422


def test_customers_and_analysts_may_not_fund(
    client: TestClient, customer: AuthedUser, analyst_headers: dict[str, str]
) -> None:
    for headers in (customer.headers, analyst_headers):
        response = client.post(
            f"/admin/accounts/{customer.iban}/deposit", json={"amount": "1.00"}, headers=headers
        )
        assert response.status_code == 403
        assert response.json() == {"detail": "Not enough permissions"}


def test_funding_needs_a_token(client: TestClient, customer: AuthedUser) -> None:
    response = client.post(f"/admin/accounts/{customer.iban}/deposit", json={"amount": "1.00"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_deposit_with_an_idempotency_key_is_applied_once(
    client: TestClient, engine: Engine, customer: AuthedUser, admin_headers: dict[str, str]
) -> None:
    headers = admin_headers | {"Idempotency-Key": "deposit-0001"}
    url = f"/admin/accounts/{customer.iban}/deposit"

    first = client.post(url, json={"amount": "40.00"}, headers=headers)
    again = client.post(url, json={"amount": "40.00"}, headers=headers)
    other = client.post(url, json={"amount": "41.00"}, headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"
    assert other.status_code == 422
    assert other.json() == {
        "detail": "This Idempotency-Key was already used with a different request"
    }
    assert balance_of(client, customer.headers, customer.iban) == "40.00"
    assert assert_ledger_consistent(engine).entries == 1


def test_same_key_on_withdraw_is_a_different_request(
    client: TestClient, customer: AuthedUser, admin_headers: dict[str, str]
) -> None:
    headers = admin_headers | {"Idempotency-Key": "same-key"}
    first = client.post(
        f"/admin/accounts/{customer.iban}/deposit", json={"amount": "10.00"}, headers=headers
    )
    second = client.post(
        f"/admin/accounts/{customer.iban}/withdraw", json={"amount": "10.00"}, headers=headers
    )
    assert first.status_code == 201
    assert second.status_code == 422
    assert balance_of(client, customer.headers, customer.iban) == "10.00"


def test_a_currency_with_ledger_accounts_cannot_be_removed(
    client: TestClient, customer: AuthedUser, admin_headers: dict[str, str]
) -> None:
    usd = open_account(client, customer.headers, "saving", "USD")
    deposit(client, admin_headers, usd, "1.00")

    in_use = client.delete("/admin/currencies/USD", headers=admin_headers)
    unused = client.delete("/admin/currencies/GBP", headers=admin_headers)

    assert in_use.status_code == 409
    assert in_use.json() == {"detail": "Currency USD is used by accounts and cannot be removed"}
    assert unused.status_code == 204


def test_a_newly_supported_currency_gets_its_own_funding_account(
    client: TestClient, engine: Engine, customer: AuthedUser, admin_headers: dict[str, str]
) -> None:
    unsupported = client.post(
        "/accounts/open",
        json={"account_type": "saving", "currency": "CHF"},
        headers=customer.headers,
    )
    added = client.post("/admin/currencies", json={"code": "chf"}, headers=admin_headers)
    duplicate = client.post("/admin/currencies", json={"code": "CHF"}, headers=admin_headers)
    not_iso = client.post("/admin/currencies", json={"code": "XYZ"}, headers=admin_headers)
    listed = client.get("/admin/currencies", headers=admin_headers)

    assert unsupported.status_code == 422
    assert unsupported.json() == {"detail": "Currency CHF is not supported"}
    assert added.status_code == 201
    assert added.json() == {"code": "CHF", "name": "Swiss Franc"}
    assert duplicate.status_code == 409
    assert not_iso.status_code == 422
    assert "CHF" in [c["code"] for c in listed.json()]

    francs = open_account(client, customer.headers, "saving", "CHF")
    deposit(client, admin_headers, francs, "9.99")
    totals = assert_ledger_consistent(engine)
    assert totals.customer_balances == {"CHF": Decimal("9.99"), "EUR": Decimal("0.00")}
    assert totals.funding_balances == {"CHF": Decimal("-9.99")}
