"""Transfers at the same moment, on a file-backed database: no overdraft, no lost update, and a
key sent twice at once moves money once."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.utils.auth import AuthedUser
from tests.utils.concurrency import run_at_once
from tests.utils.money import assert_ledger_consistent, balance_of, deposit, transfer_body

THREADS = 50


def test_fifty_transfers_of_ten_from_one_hundred(
    app: FastAPI,
    client: TestClient,
    engine: Engine,
    customer: AuthedUser,
    other_customer: AuthedUser,
    admin_headers: dict[str, str],
) -> None:
    deposit(client, admin_headers, customer.iban, "100.00")
    body = transfer_body(customer.iban, other_customer.iban, "10.00")

    responses = run_at_once(
        app,
        THREADS,
        lambda c, _i: c.post("/transfers", json=body, headers=customer.headers),
    )

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 10, 422: 40}
    refused = {r.json()["detail"] for r in responses if r.status_code == 422}
    assert refused == {
        f"Insufficient funds in account {customer.iban}: balance 0.00 EUR, needed 10.00 EUR"
    }
    assert len({r.json()["id"] for r in responses if r.status_code == 201}) == 10
    assert balance_of(client, customer.headers, customer.iban) == "0.00"
    assert balance_of(client, other_customer.headers, other_customer.iban) == "100.00"
    totals = assert_ledger_consistent(engine)  # balance == sum of postings, none negative
    assert totals.entries_by_kind == {"deposit": 1, "transfer": 10}
    statement = client.get(
        f"/accounts/{customer.iban}/transactions", headers=customer.headers
    ).json()
    assert [line["balance_after"] for line in statement["items"]] == [
        f"{10 * n}.00" for n in range(10)
    ] + ["100.00"]


def test_the_same_key_sent_at_once_moves_money_once(
    app: FastAPI,
    client: TestClient,
    engine: Engine,
    customer: AuthedUser,
    other_customer: AuthedUser,
    admin_headers: dict[str, str],
) -> None:
    deposit(client, admin_headers, customer.iban, "100.00")
    body = transfer_body(customer.iban, other_customer.iban, "10.00")
    headers = customer.headers | {"Idempotency-Key": "one-click-many-retries"}

    responses = run_at_once(app, 20, lambda c, _i: c.post("/transfers", json=body, headers=headers))

    assert {r.status_code for r in responses} == {201}
    assert len({r.text for r in responses}) == 1  # the same body, byte for byte
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in responses) == 19
    assert balance_of(client, customer.headers, customer.iban) == "90.00"
    assert assert_ledger_consistent(engine).entries_by_kind == {"deposit": 1, "transfer": 1}


def test_crossing_transfers_neither_deadlock_nor_lose_updates(
    app: FastAPI,
    client: TestClient,
    engine: Engine,
    customer: AuthedUser,
    other_customer: AuthedUser,
    admin_headers: dict[str, str],
) -> None:
    deposit(client, admin_headers, customer.iban, "100.00")
    deposit(client, admin_headers, other_customer.iban, "100.00")

    def cross(c: TestClient, index: int) -> Any:
        sender, recipient = (customer, other_customer) if index % 2 else (other_customer, customer)
        return c.post(
            "/transfers",
            json=transfer_body(sender.iban, recipient.iban, "1.00"),
            headers=sender.headers,
        )

    responses = run_at_once(app, 40, cross)

    assert {r.status_code for r in responses} == {201}
    assert balance_of(client, customer.headers, customer.iban) == "100.00"
    assert balance_of(client, other_customer.headers, other_customer.iban) == "100.00"
    totals = assert_ledger_consistent(engine)
    assert totals.customer_balances == {"EUR": Decimal("200.00")}
    assert totals.entries_by_kind == {"deposit": 2, "transfer": 40}
