"""Transfers: rules, errors, reading them back, and idempotent retries."""

from __future__ import annotations

import base64
from datetime import timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from app.core.clock import utcnow
from app.core.db import new_session, write_transaction
from app.models.idempotency_key import IdempotencyKey
from tests.utils.auth import AuthedUser, register_customer
from tests.utils.money import (
    assert_ledger_consistent,
    balance_of,
    deposit,
    open_account,
    transfer_body,
)

OTHER_BANK_IBAN = "NL91ABNA0417164300"  # valid, but not an account of this bank


@pytest.fixture
def funded(client: TestClient, customer: AuthedUser, admin_headers: dict[str, str]) -> AuthedUser:
    deposit(client, admin_headers, customer.iban, "100.00")
    return customer


def printed(iban: str) -> str:
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


def test_transfer_to_another_customer(
    client: TestClient, engine: Engine, funded: AuthedUser, other_customer: AuthedUser
) -> None:
    body = transfer_body(funded.iban, other_customer.iban, "12.34", description="Lunch")

    response = client.post("/transfers", json=body, headers=funded.headers)

    assert response.status_code == 201
    created = response.json()
    assert created == {
        "id": created["id"],
        "from_iban": funded.iban,
        "to_iban": other_customer.iban,
        "amount": "12.34",
        "currency": "EUR",
        "description": "Lunch",
        "status": "completed",
        "execute_on": None,
        "entry_id": created["entry_id"],
        "failure_reason": None,
        "created_at": created["created_at"],
    }
    assert isinstance(created["entry_id"], int)
    assert balance_of(client, funded.headers, funded.iban) == "87.66"
    assert balance_of(client, other_customer.headers, other_customer.iban) == "12.34"
    totals = assert_ledger_consistent(engine)
    assert totals.entries_by_kind == {"deposit": 1, "transfer": 1}
    assert totals.customer_balances == {"EUR": Decimal("100.00")}


def test_both_sides_see_the_transfer_on_their_statement(
    client: TestClient, funded: AuthedUser, other_customer: AuthedUser
) -> None:
    created = client.post(
        "/transfers",
        json=transfer_body(funded.iban, other_customer.iban, "10.00", description="Rent"),
        headers=funded.headers,
    ).json()

    sent = client.get(f"/accounts/{funded.iban}/transactions", headers=funded.headers).json()
    got = client.get(
        f"/accounts/{other_customer.iban}/transactions", headers=other_customer.headers
    ).json()

    out_line = sent["items"][0]
    in_line = got["items"][0]
    assert (out_line["kind"], out_line["entry_id"], out_line["amount"]) == (
        "transfer",
        created["entry_id"],
        "-10.00",
    )
    assert (out_line["counterparty_iban"], out_line["counterparty_name"]) == (
        other_customer.iban,
        "Bob Builder",
    )
    assert out_line["balance_after"] == "90.00"
    assert (in_line["amount"], in_line["balance_after"], in_line["description"]) == (
        "10.00",
        "10.00",
        "Rent",
    )
    assert (in_line["counterparty_iban"], in_line["counterparty_name"]) == (
        funded.iban,
        "Alice Example",
    )


def test_transfer_between_own_accounts(
    client: TestClient, funded: AuthedUser, engine: Engine
) -> None:
    saving = open_account(client, funded.headers, "saving")
    response = client.post(
        "/transfers", json=transfer_body(funded.iban, saving, "60.00"), headers=funded.headers
    )
    assert response.status_code == 201
    assert balance_of(client, funded.headers, saving) == "60.00"
    assert balance_of(client, funded.headers, funded.iban) == "40.00"
    listed = client.get("/transfers", headers=funded.headers).json()["items"]
    assert [t["id"] for t in listed] == [response.json()["id"]]  # listed once, not twice
    assert_ledger_consistent(engine)


def test_ibans_are_normalised(
    client: TestClient, funded: AuthedUser, other_customer: AuthedUser
) -> None:
    body = transfer_body(
        printed(funded.iban).lower(), f"  {printed(other_customer.iban)} ", "1.00", "eur"
    )
    response = client.post("/transfers", json=body, headers=funded.headers)
    assert response.status_code == 201
    assert (
        response.json()["from_iban"],
        response.json()["to_iban"],
        response.json()["currency"],
    ) == (
        funded.iban,
        other_customer.iban,
        "EUR",
    )


def test_the_whole_balance_may_be_sent(
    client: TestClient, funded: AuthedUser, other_customer: AuthedUser
) -> None:
    response = client.post(
        "/transfers",
        json=transfer_body(funded.iban, other_customer.iban, "100"),
        headers=funded.headers,
    )
    assert response.status_code == 201
    assert balance_of(client, funded.headers, funded.iban) == "0.00"


def test_insufficient_funds_is_422_and_writes_nothing(
    client: TestClient, engine: Engine, funded: AuthedUser, other_customer: AuthedUser
) -> None:
    response = client.post(
        "/transfers",
        json=transfer_body(funded.iban, other_customer.iban, "100.01"),
        headers=funded.headers,
    )

    assert response.status_code == 422
    assert response.json() == {
        "detail": f"Insufficient funds in account {funded.iban}: balance 100.00 EUR, "
        "needed 100.01 EUR"
    }
    assert balance_of(client, funded.headers, funded.iban) == "100.00"
    assert balance_of(client, other_customer.headers, other_customer.iban) == "0.00"
    totals = assert_ledger_consistent(engine)
    assert (totals.entries, totals.postings) == (1, 2)
    assert client.get("/transfers", headers=funded.headers).json()["items"] == []


def test_an_empty_account_cannot_send(
    client: TestClient, customer: AuthedUser, other_customer: AuthedUser
) -> None:
    response = client.post(
        "/transfers",
        json=transfer_body(customer.iban, other_customer.iban, "0.01"),
        headers=customer.headers,
    )
    assert response.status_code == 422
    assert response.json()["detail"].startswith("Insufficient funds in account")


@pytest.mark.parametrize("side", ["from_iban", "to_iban"])
def test_invalid_iban_is_422(
    client: TestClient, funded: AuthedUser, other_customer: AuthedUser, side: str
) -> None:
    body = transfer_body(funded.iban, other_customer.iban, "1.00") | {side: "NL91ABNA0417164301"}
    response = client.post("/transfers", json=body, headers=funded.headers)
    assert response.status_code == 422
    assert response.json() == {"detail": "Invalid IBAN: Invalid checksum digits"}


@pytest.mark.parametrize("bad", ["", "not an iban", "XX00123", "NL91ABNA04171643"])
def test_malformed_iban_is_422(
    client: TestClient, funded: AuthedUser, other_customer: AuthedUser, bad: str
) -> None:
    body = transfer_body(funded.iban, other_customer.iban, "1.00") | {"to_iban": bad}
    response = client.post("/transfers", json=body, headers=funded.headers)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("Invalid IBAN: ")


def test_unknown_destination_is_404(client: TestClient, funded: AuthedUser) -> None:
    response = client.post(
        "/transfers",
        json=transfer_body(funded.iban, OTHER_BANK_IBAN, "1.00"),
        headers=funded.headers,
    )
    assert response.status_code == 404
    assert response.json() == {"detail": f"Destination account {OTHER_BANK_IBAN} not found"}


def test_source_that_is_not_yours_is_404_like_an_unknown_one(
    client: TestClient,
    funded: AuthedUser,
    other_customer: AuthedUser,
    admin_headers: dict[str, str],
) -> None:
    deposit(client, admin_headers, other_customer.iban, "50.00")

    theirs = client.post(
        "/transfers",
        json=transfer_body(other_customer.iban, funded.iban, "1.00"),
        headers=funded.headers,
    )
    unknown = client.post(
        "/transfers",
        json=transfer_body(OTHER_BANK_IBAN, funded.iban, "1.00"),
        headers=funded.headers,
    )

    assert theirs.status_code == unknown.status_code == 404
    assert theirs.json() == {"detail": f"Account {other_customer.iban} not found"}
    assert unknown.json() == {"detail": f"Account {OTHER_BANK_IBAN} not found"}
    assert balance_of(client, other_customer.headers, other_customer.iban) == "50.00"


def test_same_account_both_sides_is_422(client: TestClient, funded: AuthedUser) -> None:
    response = client.post(
        "/transfers",
        json=transfer_body(funded.iban, printed(funded.iban), "1.00"),
        headers=funded.headers,
    )
    assert response.status_code == 422
    assert response.json() == {"detail": "Source and destination are the same account"}


def test_currency_must_match_the_source(
    client: TestClient, funded: AuthedUser, other_customer: AuthedUser
) -> None:
    response = client.post(
        "/transfers",
        json=transfer_body(funded.iban, other_customer.iban, "1.00", currency="USD"),
        headers=funded.headers,
    )
    assert response.status_code == 422
    assert response.json() == {"detail": f"Account {funded.iban} holds EUR, not USD (no FX here)"}


def test_currency_must_match_the_destination(
    client: TestClient, engine: Engine, funded: AuthedUser, other_customer: AuthedUser
) -> None:
    dollars = open_account(client, other_customer.headers, "saving", "USD")
    response = client.post(
        "/transfers", json=transfer_body(funded.iban, dollars, "1.00"), headers=funded.headers
    )
    assert response.status_code == 422
    assert response.json() == {"detail": f"Destination account {dollars} does not hold EUR"}
    assert assert_ledger_consistent(engine).entries == 1


def test_transfers_in_another_currency(
    client: TestClient,
    customer: AuthedUser,
    other_customer: AuthedUser,
    admin_headers: dict[str, str],
) -> None:
    mine = open_account(client, customer.headers, "saving", "USD")
    theirs = open_account(client, other_customer.headers, "investment", "USD")
    deposit(client, admin_headers, mine, "5.00")
    response = client.post(
        "/transfers", json=transfer_body(mine, theirs, "5.00", "USD"), headers=customer.headers
    )
    assert response.status_code == 201
    assert balance_of(client, other_customer.headers, theirs) == "5.00"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount", "0"),
        ("amount", "-1.00"),
        ("amount", "0.001"),
        ("amount", "1e400"),
        ("amount", "ten"),
        ("amount", "1_000"),
        ("amount", "\u0661\u0660"),  # Arabic-Indic "10"
        ("amount", " 5 "),
        ("amount", "5."),
        ("amount", ".5"),
        ("amount", "1E-2"),
        ("currency", "EURO"),
        ("currency", "EU"),
        ("description", "x" * 141),
        ("from_iban", "N" * 65),
    ],
)
def test_body_validation_is_422(
    client: TestClient,
    funded: AuthedUser,
    other_customer: AuthedUser,
    field: str,
    value: str,
) -> None:
    body = transfer_body(funded.iban, other_customer.iban, "1.00") | {field: value}
    response = client.post("/transfers", json=body, headers=funded.headers)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", field]


def test_missing_fields_are_422(client: TestClient, funded: AuthedUser) -> None:
    response = client.post("/transfers", json={"from_iban": funded.iban}, headers=funded.headers)
    assert response.status_code == 422
    missing = {tuple(error["loc"]) for error in response.json()["detail"]}
    assert missing == {("body", "to_iban"), ("body", "amount"), ("body", "currency")}


def test_transfers_need_a_customer(
    client: TestClient,
    funded: AuthedUser,
    other_customer: AuthedUser,
    admin_headers: dict[str, str],
) -> None:
    body = transfer_body(funded.iban, other_customer.iban, "1.00")
    anonymous = client.post("/transfers", json=body)
    admin = client.post("/transfers", json=body, headers=admin_headers)
    assert anonymous.status_code == 401
    assert admin.status_code == 403
    assert admin.json() == {"detail": "Only customers have accounts and portfolios"}
    assert client.get("/transfers", headers=admin_headers).status_code == 403


# --- reading transfers back ---------------------------------------------------------------


def test_get_transfer_for_sender_and_recipient_only(
    client: TestClient, funded: AuthedUser, other_customer: AuthedUser
) -> None:
    created = client.post(
        "/transfers",
        json=transfer_body(funded.iban, other_customer.iban, "3.00"),
        headers=funded.headers,
    ).json()
    stranger = register_customer(client, username="carol", name="Carol Stranger")

    for headers in (funded.headers, other_customer.headers):
        response = client.get(f"/transfers/{created['id']}", headers=headers)
        assert response.status_code == 200
        assert response.json() == created
    hidden = client.get(f"/transfers/{created['id']}", headers=stranger.headers)
    assert hidden.status_code == 404
    assert hidden.json() == {"detail": "Transfer not found"}


def test_get_transfer_errors(client: TestClient, funded: AuthedUser) -> None:
    deposit_entry = 1  # a journal entry that is not a transfer
    assert client.get(f"/transfers/{deposit_entry}", headers=funded.headers).status_code == 404
    assert client.get("/transfers/999999", headers=funded.headers).status_code == 404
    for malformed in ("abc", "-1", "1.5", "9" * 19):
        response = client.get(f"/transfers/{malformed}", headers=funded.headers)
        assert response.status_code == 400
        assert response.json() == {"detail": "Malformed transfer id"}
    assert client.get("/transfers/1").status_code == 401


def test_list_transfers_newest_first_in_keyset_pages(
    client: TestClient,
    funded: AuthedUser,
    other_customer: AuthedUser,
    admin_headers: dict[str, str],
) -> None:
    deposit(client, admin_headers, other_customer.iban, "10.00")
    ids = []
    for index in range(5):
        sender, recipient = (funded, other_customer) if index % 2 == 0 else (other_customer, funded)
        response = client.post(
            "/transfers",
            json=transfer_body(sender.iban, recipient.iban, f"{index + 1}.00"),
            headers=sender.headers,
        )
        assert response.status_code == 201
        ids.append(response.json()["id"])

    seen: list[int] = []
    before = None
    pages = 0
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if before:
            params["before"] = before
        page = client.get("/transfers", params=params, headers=funded.headers)
        assert page.status_code == 200
        body = page.json()
        seen += [t["id"] for t in body["items"]]
        pages += 1
        before = body["next_before"]
        if before is None:
            break

    assert seen == list(reversed(ids))
    assert pages == 3
    everything = client.get("/transfers", headers=other_customer.headers).json()
    assert [t["id"] for t in everything["items"]] == list(reversed(ids))
    assert everything["next_before"] is None


def test_list_transfers_rejects_bad_paging(client: TestClient, funded: AuthedUser) -> None:
    bad_cursor = client.get("/transfers", params={"before": "garbage!"}, headers=funded.headers)
    assert bad_cursor.status_code == 400
    assert bad_cursor.json() == {"detail": "Malformed pagination cursor"}
    # An id in Arabic-Indic digits or with a digit separator: int() reads both.
    for row_id in ("\u0661\u0662", "1_0"):
        raw = f"2026-01-01T00:00:00+00:00|{row_id}".encode()
        cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        response = client.get("/transfers", params={"before": cursor}, headers=funded.headers)
        assert response.status_code == 400
        assert response.json() == {"detail": "Malformed pagination cursor"}
    for limit in (0, 201):
        response = client.get("/transfers", params={"limit": limit}, headers=funded.headers)
        assert response.status_code == 422


# --- idempotency ----------------------------------------------------------------------------


def test_retry_with_the_same_key_returns_the_first_response(
    client: TestClient, engine: Engine, funded: AuthedUser, other_customer: AuthedUser
) -> None:
    body = transfer_body(funded.iban, other_customer.iban, "25.00")
    headers = funded.headers | {"Idempotency-Key": "7d3f1c9e-retry"}

    first = client.post("/transfers", json=body, headers=headers)
    again = client.post("/transfers", json=body, headers=headers)
    # The same request written differently (amount, IBAN format) is the same request.
    same = client.post(
        "/transfers",
        json=body | {"amount": "25", "to_iban": printed(other_customer.iban).lower()},
        headers=headers,
    )

    assert first.status_code == again.status_code == same.status_code == 201
    assert again.json() == first.json() == same.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert balance_of(client, funded.headers, funded.iban) == "75.00"
    assert assert_ledger_consistent(engine).entries_by_kind == {"deposit": 1, "transfer": 1}


def test_same_key_with_a_different_body_is_422(
    client: TestClient, funded: AuthedUser, other_customer: AuthedUser
) -> None:
    headers = funded.headers | {"Idempotency-Key": "k-1"}
    body = transfer_body(funded.iban, other_customer.iban, "25.00")
    assert client.post("/transfers", json=body, headers=headers).status_code == 201

    for change in ({"amount": "26.00"}, {"description": "other"}, {"currency": "USD"}):
        response = client.post("/transfers", json=body | change, headers=headers)
        assert response.status_code == 422
        assert response.json() == {
            "detail": "This Idempotency-Key was already used with a different request"
        }
    assert balance_of(client, funded.headers, funded.iban) == "75.00"


def test_keys_are_scoped_to_the_caller(
    client: TestClient,
    funded: AuthedUser,
    other_customer: AuthedUser,
    admin_headers: dict[str, str],
) -> None:
    deposit(client, admin_headers, other_customer.iban, "100.00")
    key = {"Idempotency-Key": "shared-key"}
    mine = client.post(
        "/transfers",
        json=transfer_body(funded.iban, other_customer.iban, "1.00"),
        headers=funded.headers | key,
    )
    theirs = client.post(
        "/transfers",
        json=transfer_body(other_customer.iban, funded.iban, "2.00"),
        headers=other_customer.headers | key,
    )
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    assert "idempotent-replayed" not in theirs.headers


def test_a_failed_request_does_not_use_up_its_key(
    client: TestClient,
    funded: AuthedUser,
    other_customer: AuthedUser,
    admin_headers: dict[str, str],
) -> None:
    headers = funded.headers | {"Idempotency-Key": "after-top-up"}
    body = transfer_body(funded.iban, other_customer.iban, "150.00")

    refused = client.post("/transfers", json=body, headers=headers)
    deposit(client, admin_headers, funded.iban, "50.00")
    accepted = client.post("/transfers", json=body, headers=headers)
    replayed = client.post("/transfers", json=body, headers=headers)

    assert refused.status_code == 422
    assert accepted.status_code == 201
    assert replayed.json() == accepted.json()
    assert balance_of(client, funded.headers, funded.iban) == "0.00"


def test_key_length_limits(
    client: TestClient, funded: AuthedUser, other_customer: AuthedUser
) -> None:
    body = transfer_body(funded.iban, other_customer.iban, "1.00")
    longest = client.post(
        "/transfers", json=body, headers=funded.headers | {"Idempotency-Key": "k" * 255}
    )
    too_long = client.post(
        "/transfers", json=body, headers=funded.headers | {"Idempotency-Key": "k" * 256}
    )
    empty = client.post("/transfers", json=body, headers=funded.headers | {"Idempotency-Key": ""})
    assert longest.status_code == 201
    assert too_long.status_code == 422
    assert too_long.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    assert empty.status_code == 422
    assert balance_of(client, funded.headers, funded.iban) == "99.00"


def test_an_expired_key_may_be_used_again(
    client: TestClient, engine: Engine, funded: AuthedUser, other_customer: AuthedUser
) -> None:
    headers = funded.headers | {"Idempotency-Key": "old-key"}
    first = client.post(
        "/transfers", json=transfer_body(funded.iban, other_customer.iban, "1.00"), headers=headers
    )
    with new_session(engine) as session, write_transaction(session):
        session.execute(
            update(IdempotencyKey)
            .where(col(IdempotencyKey.key) == "old-key")
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )

    # Different body: allowed now, and a new transfer.
    second = client.post(
        "/transfers", json=transfer_body(funded.iban, other_customer.iban, "2.00"), headers=headers
    )

    assert first.status_code == second.status_code == 201
    assert second.json()["id"] != first.json()["id"]
    assert balance_of(client, funded.headers, funded.iban) == "97.00"


def test_keys_are_kept_for_the_configured_time(
    client: TestClient, engine: Engine, funded: AuthedUser, other_customer: AuthedUser
) -> None:
    before = utcnow()
    client.post(
        "/transfers",
        json=transfer_body(funded.iban, other_customer.iban, "1.00"),
        headers=funded.headers | {"Idempotency-Key": "ttl"},
    )
    with new_session(engine) as session:
        row = session.exec(select(IdempotencyKey)).one()
        assert row.response_status == 201
        assert row.expires_at - row.created_at == timedelta(hours=24)
        assert row.created_at >= before


def test_transfers_cannot_be_changed(client: TestClient, funded: AuthedUser) -> None:
    # DELETE cancels a scheduled transfer (and is 409 for any other: see scheduled transfers).
    for method in ("PUT", "PATCH"):
        response = client.request(method, "/transfers/1", headers=funded.headers)
        assert response.status_code == 405
        assert response.json() == {"detail": "Method Not Allowed"}
    unknown = client.get(f"/accounts/{funded.iban}/postings", headers=funded.headers)
    assert unknown.status_code == 404
    assert unknown.json() == {"detail": "Not Found"}
