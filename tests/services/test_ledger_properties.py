"""A seeded random run of hundreds of deposits, withdrawals and transfers through the API, some
at the same moment, some retried with the same Idempotency-Key, against a simple model.

After every step and at the end: the sum of all balances equals total funding minus withdrawals
(per currency), every account's balance equals the sum of its postings, no balance is negative,
and each idempotency key moved money at most once.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.utils.auth import AuthedUser, register_customer
from tests.utils.concurrency import run_at_once
from tests.utils.money import assert_ledger_consistent, open_account, transfer_body

OPERATIONS = 250
BATCH_EVERY = 25  # roughly every 25th step is a batch of concurrent requests
BATCH_SIZE = 8


@dataclass(frozen=True)
class Holder:
    iban: str
    currency: str
    owner: int  # index into World.customers


@dataclass(frozen=True)
class Request:
    """A request that can be sent again: who, where, what, and with which key."""

    headers: dict[str, str]
    path: str
    body: dict[str, str]
    kind: str  # deposit | withdrawal | transfer
    deltas: tuple[tuple[str, Decimal], ...]  # (iban, change) when it succeeds
    key: str | None
    scope: str  # the user the key belongs to


@dataclass
class World:
    client: TestClient
    admin: dict[str, str]
    customers: list[AuthedUser]
    accounts: list[Holder]
    rng: random.Random
    balances: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    funded: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    withdrawn: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    successes: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    keyed: list[tuple[Request, Any]] = field(default_factory=list)  # (request, first response)
    moved_by_key: dict[tuple[str, str], set[int]] = field(default_factory=lambda: defaultdict(set))
    key_counter: int = 0

    def currency(self, iban: str) -> str:
        return next(a.currency for a in self.accounts if a.iban == iban)

    def amount(self) -> Decimal:
        # Mostly small, sometimes more than any balance, always whole cents.
        cents = self.rng.choice([self.rng.randint(1, 5_000), self.rng.randint(1, 50_000)])
        return Decimal(cents).scaleb(-2)

    def maybe_key(self) -> str | None:
        if self.rng.random() < 0.4:
            self.key_counter += 1
            return f"key-{self.key_counter:04d}"
        return None

    def random_request(self) -> Request:
        roll = self.rng.random()
        key = self.maybe_key()
        amount = self.amount()
        if roll < 0.25:
            target = self.rng.choice(self.accounts)
            return Request(
                self.admin,
                f"/admin/accounts/{target.iban}/deposit",
                {"amount": str(amount), "description": "top-up"},
                "deposit",
                ((target.iban, amount),),
                key,
                "admin",
            )
        if roll < 0.35:
            target = self.rng.choice(self.accounts)
            return Request(
                self.admin,
                f"/admin/accounts/{target.iban}/withdraw",
                {"amount": str(amount)},
                "withdrawal",
                ((target.iban, -amount),),
                key,
                "admin",
            )
        source = self.rng.choice(self.accounts)
        target = self.rng.choice(self.accounts)  # sometimes the same: a 422
        owner = self.customers[source.owner]
        # Usually the source's currency; sometimes another one: a 422.
        currency = source.currency if self.rng.random() < 0.9 else "GBP"
        return Request(
            owner.headers,
            "/transfers",
            transfer_body(source.iban, target.iban, str(amount), currency),
            "transfer",
            ((source.iban, -amount), (target.iban, amount)),
            key,
            owner.username,
        )

    def expected_status(self, request: Request) -> int:
        """What the model says a request sent alone gets now (not counting replays)."""
        if request.kind == "transfer":
            (source, _), (target, _) = request.deltas
            if source == target or self.currency(target) != request.body["currency"]:
                return 422
            if self.currency(source) != request.body["currency"]:
                return 422
        return 201 if all(self.balances[i] + d >= 0 for i, d in request.deltas) else 422

    def send(self, request: Request, client: TestClient | None = None) -> Any:
        headers = request.headers | ({"Idempotency-Key": request.key} if request.key else {})
        return (client or self.client).post(request.path, json=request.body, headers=headers)

    def apply(self, request: Request, response: Any) -> None:
        """Book a response into the model; a replay moved nothing."""
        assert response.status_code in (201, 422), response.text
        if response.status_code != 201 or response.headers.get("idempotent-replayed"):
            return
        for iban, delta in request.deltas:
            self.balances[iban] += delta
        currency = self.currency(request.deltas[0][0])
        if request.kind == "deposit":
            self.funded[currency] += request.deltas[0][1]
        elif request.kind == "withdrawal":
            self.withdrawn[currency] -= request.deltas[0][1]
        self.successes[request.kind] += 1
        if request.key:
            self.moved_by_key[(request.scope, request.key)].add(response.json()["id"])


def world(client: TestClient, admin_headers: dict[str, str], seed: int) -> World:
    customers = [
        register_customer(client, username=f"prop{seed}x{i}", name=f"Customer {i}")
        for i in range(4)
    ]
    accounts = [Holder(c.iban, "EUR", i) for i, c in enumerate(customers)]
    for i in (0, 1):
        accounts.append(
            Holder(open_account(client, customers[i].headers, "saving", "USD"), "USD", i)
        )
    accounts.append(Holder(open_account(client, customers[2].headers, "saving", "EUR"), "EUR", 2))
    return World(client, admin_headers, customers, accounts, random.Random(seed))


def check(world: World, engine: Engine) -> None:
    totals = assert_ledger_consistent(engine)
    for currency in ("EUR", "USD"):
        expected = world.funded[currency] - world.withdrawn[currency]
        assert totals.customer_balances.get(currency, Decimal(0)) == expected
    assert totals.entries_by_kind == {k: v for k, v in world.successes.items() if v}
    for ids in world.moved_by_key.values():
        assert len(ids) == 1, f"one key moved money {len(ids)} times"


@pytest.mark.parametrize("seed", [1, 2])
def test_random_money_movement_keeps_the_books(
    app: FastAPI,
    client: TestClient,
    engine: Engine,
    admin_headers: dict[str, str],
    seed: int,
) -> None:
    w = world(client, admin_headers, seed)
    concurrent_batches = retries = replays = refusals = 0

    for step in range(OPERATIONS):
        roll = w.rng.random()
        if step % BATCH_EVERY == BATCH_EVERY - 1:
            # Several requests at once; some of them the same keyed request twice.
            batch = [w.random_request() for _ in range(BATCH_SIZE - 2)]
            keyed = [r for r in batch if r.key] or [batch[0]]
            batch += [keyed[0], keyed[-1]]
            responses = run_at_once(app, len(batch), lambda c, i, b=batch: w.send(b[i], c))
            for request, response in zip(batch, responses, strict=True):
                w.apply(request, response)
            for request in {id(r): r for r in batch if r.key}.values():
                same = [resp for r, resp in zip(batch, responses, strict=True) if r is request]
                if same[0].status_code == 201:
                    assert len({resp.text for resp in same}) == 1
                    w.keyed.append((request, same[0]))
            concurrent_batches += 1
        elif roll < 0.2 and w.keyed:
            # A retry of an earlier keyed request: the first response again, nothing moves.
            request, first = w.rng.choice(w.keyed)
            again = w.send(request)
            assert (again.status_code, again.json()) == (first.status_code, first.json())
            assert again.headers["idempotent-replayed"] == "true"
            w.apply(request, again)
            retries += 1
        elif roll < 0.25 and w.keyed:
            # The same key with another body: refused, nothing moves.
            request, _ = w.rng.choice(w.keyed)
            changed = {**request.body, "amount": str(Decimal(request.body["amount"]) + 1)}
            other = w.send(Request(**{**request.__dict__, "body": changed}))
            assert other.status_code == 422
            assert other.json()["detail"].startswith("This Idempotency-Key was already used")
            replays += 1
        else:
            request = w.random_request()
            expected = w.expected_status(request)
            response = w.send(request)
            assert response.status_code == expected, (request, response.text)
            w.apply(request, response)
            refusals += response.status_code == 422
            if request.key and response.status_code == 201:
                w.keyed.append((request, response))
        if step % 50 == 0:
            check(w, engine)

    check(w, engine)
    for holder in w.accounts:
        owner = w.customers[holder.owner]
        detail = w.client.get(f"/accounts/{holder.iban}", headers=owner.headers).json()
        assert Decimal(detail["balance"]) == w.balances[holder.iban]
    # The run exercised what it claims to.
    assert concurrent_batches >= 9
    assert retries >= 10
    assert replays >= 2
    assert refusals >= 10
    assert sum(w.successes.values()) >= 100
