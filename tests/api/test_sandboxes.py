"""Sandboxes: isolated banks in one server; creating, managing, snapshots, restore, reset, fork."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text, update
from sqlalchemy.engine import Engine
from sqlmodel import col

from app.core.clock import utcnow
from app.core.db import new_session, write_transaction
from app.models.sandbox import Sandbox
from app.services import sandboxes
from app.services.sandboxes import SandboxHub
from tests.utils.auth import bearer, register_customer
from tests.utils.concurrency import run_at_once
from tests.utils.mcp import McpCaller
from tests.utils.money import assert_ledger_consistent, deposit, transfer_body

HEADER = "OpenBank-Sandbox"


def create(client: TestClient, **body: Any) -> dict[str, Any]:
    body.setdefault("template", "empty")
    response = client.post("/sandboxes", json=body, headers=body.pop("headers", None))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def admin_of(client: TestClient, created: dict[str, Any]) -> dict[str, str]:
    """Headers of the sandbox's admin: its header and a fresh access token."""
    header = {HEADER: created["sandbox_id"]}
    admin = created["credentials"]["admin"]
    response = client.post(
        "/auth/logon",
        data={"username": admin["username"], "password": admin["password"]},
        headers=header,
    )
    assert response.status_code == 200, response.text
    return {**header, **bearer(response.json()["access_token"])}


def in_sandbox(created: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, str]:
    return {HEADER: created["sandbox_id"], **(headers or {})}


def hub_of(app: FastAPI) -> SandboxHub:
    hub: SandboxHub = app.state.sandboxes
    return hub


def sandbox_engine(app: FastAPI, sandbox_id: str) -> Engine:
    return hub_of(app).resolve(sandbox_id)[0].engine


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted: two equal dumps are two equal databases."""
    tables = sorted(inspect(engine).get_table_names())
    with engine.connect() as connection:
        return {
            table: sorted(
                (tuple(row) for row in connection.execute(text(f'SELECT * FROM "{table}"'))),
                key=repr,
            )
            for table in tables
        }


def register_in(client: TestClient, created: dict[str, Any], username: str) -> dict[str, Any]:
    body = {
        "name": f"{username.title()} Example",
        "dob": "1990-05-17",
        "address": "Damrak 1, 1012 LG Amsterdam",
        "country": "NL",
        "id_document": "NL1234567",
        "username": username,
        "password": "correct-horse-battery",
    }
    response = client.post("/customers/register", json=body, headers=in_sandbox(created))
    assert response.status_code == 201, response.text
    registered: dict[str, Any] = response.json()
    tokens = client.post(
        "/auth/logon",
        data={"username": username, "password": "correct-horse-battery"},
        headers=in_sandbox(created),
    ).json()
    registered["headers"] = in_sandbox(created, bearer(tokens["access_token"]))
    return registered


# --- creating ----------------------------------------------------------------------------------


def test_an_empty_sandbox_has_reference_data_and_two_staff_logins(client: TestClient) -> None:
    created = create(client, name="checkout tests", ttl_hours=2)
    assert created["sandbox_id"].startswith("sbx_")
    assert len(created["sandbox_id"]) == 20
    assert created["name"] == "checkout tests"
    assert (created["template"], created["customer_password"]) == ("empty", None)
    credentials = created["credentials"]
    assert set(credentials) == {"admin", "analyst"}
    assert len(credentials["admin"]["password"]) >= 32  # 192 random bits
    admin = admin_of(client, created)
    assert client.get("/customers", headers=admin).json() == []
    assert client.get("/countries", headers=in_sandbox(created)).status_code == 200
    analyst = credentials["analyst"]
    response = client.post(
        "/auth/logon",
        data={"username": analyst["username"], "password": analyst["password"]},
        headers=in_sandbox(created),
    )
    assert response.status_code == 200
    lifetime = datetime.fromisoformat(created["expires_at"]) - datetime.fromisoformat(
        created["created_at"]
    )
    assert lifetime == timedelta(hours=2)


def test_a_demo_sandbox_has_the_sample_customers_and_their_password(client: TestClient) -> None:
    created = create(client, template="demo", customers=3, seed=7)
    assert (created["template"], created["seed"], created["customers"]) == ("demo", 7, 3)
    admin = admin_of(client, created)
    listed = client.get("/customers?limit=100", headers=admin).json()
    assert {"John Doe", "Jane Smith", "ABC Corporation"} <= {c["name"] for c in listed}
    assert len(listed) == 5 + 3
    john = client.post(
        "/auth/logon",
        data={"username": "john.doe", "password": created["customer_password"]},
        headers=in_sandbox(created),
    )
    assert john.status_code == 200
    # The published demo passwords do not open a sandbox.
    published = client.post(
        "/auth/logon",
        data={"username": "demo.admin", "password": "demo-admin-password"},
        headers=in_sandbox(created),
    )
    assert published.status_code == 401


def test_creation_is_answered_with_no_store(client: TestClient) -> None:
    response = client.post("/sandboxes", json={"template": "empty"})
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"customers": 11}, "customers must be at most 10 (SANDBOX_MAX_CUSTOMERS)"),
        ({"customers": 0, "ttl_hours": 49}, "ttl_hours must be at most 48 (SANDBOX_MAX_TTL_HOURS)"),
    ],
)
def test_limits_are_422_with_the_setting_named(
    make_client: Callable[..., TestClient], body: dict[str, Any], message: str
) -> None:
    client = make_client(sandbox_max_customers=10, sandbox_max_ttl_hours=48)
    response = client.post("/sandboxes", json={"template": "demo", **body})
    assert response.status_code == 422
    assert response.json() == {"detail": message}


def test_too_many_live_sandboxes_is_429(make_client: Callable[..., TestClient]) -> None:
    client = make_client(sandbox_max_live=2)
    create(client)
    create(client)
    response = client.post("/sandboxes", json={"template": "empty"})
    assert response.status_code == 429
    assert "SANDBOX_MAX_LIVE" in response.json()["detail"]
    assert client.get("/health").json()["sandboxes"] == 2


def test_malformed_bodies_are_422(client: TestClient) -> None:
    for body in (
        {"template": "full"},
        {"customers": -1},
        {"ttl_hours": 0},
        {"from": {"sandbox_id": "nope"}},
        {"name": "\u0000"},
        {"customers": False},
        {"seed": True},
    ):
        assert client.post("/sandboxes", json=body).status_code == 422, body


def test_without_self_service_only_the_default_admin_creates(
    make_client: Callable[..., TestClient], admin_headers: dict[str, str]
) -> None:
    client = make_client(sandbox_self_service=False)
    anonymous = client.post("/sandboxes", json={"template": "empty"})
    assert anonymous.status_code == 403
    customer = register_customer(client, username="carol")
    assert client.post("/sandboxes", json={}, headers=customer.headers).status_code == 403
    created = create(client, headers=admin_headers)
    # ... and a sandbox's own admin is not the default sandbox's admin.
    again = client.post("/sandboxes", json={}, headers=admin_of(client, created))
    assert again.status_code == 403


# --- routing and isolation -----------------------------------------------------------------------


def test_a_malformed_header_is_400_and_an_unknown_sandbox_404(client: TestClient) -> None:
    malformed = client.get("/health", headers={HEADER: "sbx_NOPE"})
    assert malformed.status_code == 400
    assert "OpenBank-Sandbox" in malformed.json()["detail"]
    # An empty header names no sandbox: it is not taken for the default one.
    assert client.get("/accounts/overview", headers={HEADER: ""}).status_code == 400
    unknown = client.get("/health", headers={HEADER: "sbx_aaaaaaaaaaaaaaaa"})
    assert unknown.status_code == 404
    assert unknown.json() == {"detail": "Sandbox sbx_aaaaaaaaaaaaaaaa not found"}
    # "default" names the default sandbox, like no header.
    assert client.get("/health", headers={HEADER: "default"}).status_code == 200


def test_two_sandboxes_with_the_same_usernames_and_ibans_never_meet(client: TestClient) -> None:
    first = create(client)
    alice_1 = register_in(client, first, "alice")
    admin_1 = admin_of(client, first)
    # A fork has the same customers, usernames and IBANs: the closest two banks can be.
    second = client.post(
        "/sandboxes", json={"from": {"sandbox_id": first["sandbox_id"]}}, headers=admin_1
    ).json()
    tokens = client.post(
        "/auth/logon",
        data={"username": "alice", "password": "correct-horse-battery"},
        headers=in_sandbox(second),
    ).json()
    alice_2_headers = in_sandbox(second, bearer(tokens["access_token"]))
    me_1 = client.get("/customers/me", headers=alice_1["headers"]).json()
    me_2 = client.get("/customers/me", headers=alice_2_headers).json()
    assert me_1 == me_2
    iban = alice_1["account"]["iban"]
    # Both register a bob, with the same username.
    bob_1, bob_2 = register_in(client, first, "bob"), register_in(client, second, "bob")

    deposit(client, admin_1, iban, "70.00")
    assert client.get(f"/accounts/{iban}", headers=alice_1["headers"]).json()["balance"] == "70.00"
    assert client.get(f"/accounts/{iban}", headers=alice_2_headers).json()["balance"] == "0.00"
    history_2 = client.get(f"/accounts/{iban}/transactions", headers=alice_2_headers)
    assert history_2.status_code == 200
    assert "70.00" not in history_2.text
    # The default sandbox has no alice at all.
    default_logon = client.post(
        "/auth/logon", data={"username": "alice", "password": "correct-horse-battery"}
    )
    assert default_logon.status_code == 401
    # Deleting bob in one leaves the other's bob.
    admin_2 = admin_of(client, second)
    removed = client.delete(f"/customer/{bob_1['customer_oid']}", headers=admin_1)
    assert removed.status_code == 200, removed.text
    assert client.get("/customers/me", headers=bob_2["headers"]).status_code == 200
    names_2 = {c["name"] for c in client.get("/customers", headers=admin_2).json()}
    assert names_2 == {"Alice Example", "Bob Example"}


def test_a_token_of_one_sandbox_is_401_in_another_and_in_the_default(
    client: TestClient,
) -> None:
    first, second = create(client), create(client)
    alice = register_in(client, first, "alice")
    token = {"Authorization": alice["headers"]["Authorization"]}
    for headers in (in_sandbox(second, token), token):
        response = client.get("/customers/me", headers=headers)
        assert response.status_code == 401
        assert "another sandbox" in response.headers["WWW-Authenticate"]
    assert client.get("/customers/me", headers=alice["headers"]).status_code == 200


def test_a_default_token_is_401_in_a_sandbox(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    created = create(client)
    assert client.get("/customers", headers=in_sandbox(created, admin_headers)).status_code == 401


def test_an_api_key_names_its_sandbox_and_works_only_there(client: TestClient) -> None:
    first, second = create(client), create(client)
    admin = admin_of(client, first)
    made = client.post("/auth/api-keys", json={"name": "ci"}, headers=admin)
    assert made.status_code == 201
    key = made.json()["key"]
    assert key.startswith(f"obk_{first['sandbox_id']}.")
    assert made.json()["prefix"] == key[: len(first["sandbox_id"]) + 1 + 12]
    with_key = bearer(key)
    assert client.get("/customers", headers=in_sandbox(first, with_key)).status_code == 200
    assert client.get("/customers", headers=in_sandbox(second, with_key)).status_code == 401
    assert client.get("/customers", headers=with_key).status_code == 401
    assert sandboxes.count_live(hub_of(client.app).registry) == 2  # type: ignore[arg-type]


def test_mcp_serves_the_sandbox_of_its_credential(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    created = create(client, template="demo", customers=2)
    admin = admin_of(client, created)
    key = client.post("/auth/api-keys", json={"name": "agent"}, headers=admin).json()["key"]
    # No header: the key names its sandbox, and /mcp serves that one.
    inside = McpCaller(client, bearer(key)).ok("list_customers", {"limit": 100})
    assert inside["total"] == 7
    assert "ABC Corporation" in {c["name"] for c in inside["customers"]}
    # The default sandbox sees none of them.
    outside = McpCaller(client, admin_headers).ok("list_customers", {"limit": 100})
    assert outside["total"] == 0


def test_twenty_sandboxes_used_at_once_stay_isolated_and_balanced(
    app: FastAPI, client: TestClient
) -> None:
    made = [create(client) for _ in range(20)]
    admins = [admin_of(client, created) for created in made]

    def work(worker: TestClient, index: int) -> str:
        created = made[index]
        payer = register_in(worker, created, "payer")
        payee = register_in(worker, created, "payee")
        deposit(worker, admins[index], payer["account"]["iban"], f"{100 + index}.00")
        response = worker.post(
            "/transfers",
            json=transfer_body(payer["account"]["iban"], payee["account"]["iban"], f"{index}.50"),
            headers=payer["headers"],
        )
        assert response.status_code == 201, response.text
        balance: str = worker.get(
            f"/accounts/{payee['account']['iban']}", headers=payee["headers"]
        ).json()["balance"]
        return balance

    balances = run_at_once(app, 20, work)
    assert balances == [f"{index}.50" for index in range(20)]
    for created in made:
        engine = sandbox_engine(app, created["sandbox_id"])
        totals = assert_ledger_consistent(engine)
        assert totals.entries == 2  # one deposit, one transfer: nobody else's
    assert_ledger_consistent(app.state.engine)


# --- managing ------------------------------------------------------------------------------------


def test_listing_and_reading_sandboxes(client: TestClient, admin_headers: dict[str, str]) -> None:
    first, second = create(client), create(client)
    everything = client.get("/sandboxes", headers=admin_headers).json()
    assert [s["sandbox_id"] for s in everything] == [first["sandbox_id"], second["sandbox_id"]]
    assert all("credentials" not in s for s in everything)
    own = client.get("/sandboxes", headers=admin_of(client, first)).json()
    assert [s["sandbox_id"] for s in own] == [first["sandbox_id"]]
    customer = register_in(client, first, "alice")
    assert client.get("/sandboxes", headers=customer["headers"]).json() == []
    read = client.get(f"/sandboxes/{second['sandbox_id']}", headers=admin_headers)
    assert read.status_code == 200
    assert read.json()["sandbox_id"] == second["sandbox_id"]


def test_someone_elses_sandbox_is_404(client: TestClient) -> None:
    first, second = create(client), create(client)
    admin_1 = admin_of(client, first)
    customer_2 = register_in(client, second, "alice")
    sid = second["sandbox_id"]
    operations = (
        ("GET", f"/sandboxes/{sid}", None),
        ("DELETE", f"/sandboxes/{sid}", None),
        ("GET", f"/sandboxes/{sid}/snapshots", None),
        ("POST", f"/sandboxes/{sid}/snapshots", {"name": "x"}),
        ("POST", f"/sandboxes/{sid}/restore", {"snapshot": "x"}),
        ("POST", f"/sandboxes/{sid}/reset", None),
        ("DELETE", f"/sandboxes/{sid}/snapshots/x", None),
    )
    for method, path, body in operations:
        for headers in (admin_1, customer_2["headers"]):
            response = client.request(method, path, json=body, headers=headers)
            assert response.status_code == 404, (method, path, response.text)
            assert response.json() == {"detail": f"Sandbox {sid} not found"}
        # Managing needs a credential: none at all is 401.
        anonymous = client.request(method, path, json=body)
        assert anonymous.status_code == 401, (method, path)
    assert client.get("/sandboxes").status_code == 401
    forked = client.post("/sandboxes", json={"from": {"sandbox_id": sid}}, headers=admin_1)
    assert forked.status_code == 404


def test_deleting_one_sandbox_leaves_the_other_untouched(
    app: FastAPI, client: TestClient, admin_headers: dict[str, str]
) -> None:
    first, second = create(client), create(client)
    register_in(client, first, "alice")
    kept = register_in(client, second, "alice")
    before = dump(sandbox_engine(app, second["sandbox_id"]))
    admin_1 = admin_of(client, first)
    assert client.delete(f"/sandboxes/{first['sandbox_id']}", headers=admin_1).status_code == 204
    gone = client.get("/customers/me", headers=admin_1)
    assert gone.status_code == 404
    assert gone.json() == {"detail": f"Sandbox {first['sandbox_id']} not found"}
    assert client.get("/customers/me", headers=kept["headers"]).status_code == 200
    assert dump(sandbox_engine(app, second["sandbox_id"])) == before
    assert [s["sandbox_id"] for s in client.get("/sandboxes", headers=admin_headers).json()] == [
        second["sandbox_id"]
    ]
    assert not hub_of(app).storage.exists(first["sandbox_id"])
    assert not hub_of(app).storage.exists(f"{first['sandbox_id']}_0")


def test_the_default_admin_deletes_any_sandbox(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    created = create(client)
    sid = created["sandbox_id"]
    assert client.delete(f"/sandboxes/{sid}", headers=admin_headers).status_code == 204
    assert client.delete(f"/sandboxes/{sid}", headers=admin_headers).status_code == 404


def test_expired_sandboxes_are_404_and_removed_by_the_server(
    app: FastAPI, client: TestClient
) -> None:
    created, kept = create(client), create(client)
    admin = admin_of(client, created)
    hub = hub_of(app)
    with new_session(hub.registry) as session, write_transaction(session):
        session.execute(
            update(Sandbox)
            .where(col(Sandbox.id) == created["sandbox_id"])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    hub.forget(created["sandbox_id"])
    assert client.get("/customers", headers=admin).status_code == 404
    assert client.get("/health").json()["sandboxes"] in (1, 2)  # the count is cached a second
    assert sandboxes.remove_expired(hub=hub) == 1
    assert not hub.storage.exists(created["sandbox_id"])
    assert client.get("/customers", headers=admin_of(client, kept)).status_code == 200
    assert sandboxes.count_live(hub.registry) == 1


def test_health_counts_live_sandboxes(client: TestClient) -> None:
    assert client.get("/health").json()["sandboxes"] == 0
    create(client)
    create(client)
    assert client.get("/health").json()["sandboxes"] == 2


# --- snapshots, restore, reset, fork ------------------------------------------------------------


def test_restore_gives_back_every_row_of_the_snapshot(app: FastAPI, client: TestClient) -> None:
    created = create(client, template="demo", customers=2)
    sid = created["sandbox_id"]
    admin = admin_of(client, created)
    alice = register_in(client, created, "alice")
    deposit(client, admin, alice["account"]["iban"], "50.00")
    engine = sandbox_engine(app, sid)
    snapshot = client.post(f"/sandboxes/{sid}/snapshots", json={"name": "before"}, headers=admin)
    assert snapshot.status_code == 201
    assert snapshot.json()["name"] == "before"
    at_snapshot = dump(engine)

    # After it: transfers, registrations, tokens and an API key.
    bob = register_in(client, created, "bob")
    moved = client.post(
        "/transfers",
        json=transfer_body(alice["account"]["iban"], bob["account"]["iban"], "20.00"),
        headers=alice["headers"],
    )
    assert moved.status_code == 201
    key = client.post("/auth/api-keys", json={"name": "later"}, headers=admin).json()["key"]
    assert dump(sandbox_engine(app, sid)) != at_snapshot

    restored = client.post(f"/sandboxes/{sid}/restore", json={"snapshot": "before"}, headers=admin)
    assert restored.status_code == 200, restored.text
    assert restored.json()["sandbox_id"] == sid
    assert dump(sandbox_engine(app, sid)) == at_snapshot
    # Tokens and keys issued after the snapshot are dead; those from before still work.
    assert client.get("/customers/me", headers=bob["headers"]).status_code == 401
    assert client.get("/customers", headers=in_sandbox(created, bearer(key))).status_code == 401
    assert client.get("/customers/me", headers=alice["headers"]).status_code == 200
    balance = client.get(f"/accounts/{alice['account']['iban']}", headers=alice["headers"])
    assert balance.json()["balance"] == "50.00"


def test_reset_gives_back_the_sandbox_as_it_was_created(app: FastAPI, client: TestClient) -> None:
    created = create(client)
    sid = created["sandbox_id"]
    fresh = dump(sandbox_engine(app, sid))
    admin = admin_of(client, created)
    register_in(client, created, "alice")
    assert (
        client.post(f"/sandboxes/{sid}/snapshots", json={"name": "s"}, headers=admin).status_code
        == 201
    )
    admin = admin_of(client, created)  # the snapshot holds this session; reset will not
    response = client.post(f"/sandboxes/{sid}/reset", headers=admin)
    assert response.status_code == 200
    assert dump(sandbox_engine(app, sid)) == fresh
    # The staff passwords are the ones shown at creation; snapshots are kept.
    again = admin_of(client, created)
    assert [s["name"] for s in client.get(f"/sandboxes/{sid}/snapshots", headers=again).json()] == [
        "s"
    ]


def test_a_fork_diverges_from_its_source_without_touching_it(
    app: FastAPI, client: TestClient
) -> None:
    source = create(client)
    sid = source["sandbox_id"]
    admin = admin_of(client, source)
    alice = register_in(client, source, "alice")
    deposit(client, admin, alice["account"]["iban"], "10.00")
    before = dump(sandbox_engine(app, sid))

    fork = client.post(
        "/sandboxes", json={"from": {"sandbox_id": sid}, "name": "fork"}, headers=admin
    )
    assert fork.status_code == 201, fork.text
    forked = fork.json()
    assert forked["forked_from"] == sid
    assert forked["sandbox_id"] != sid
    assert forked["credentials"]["admin"]["password"] != source["credentials"]["admin"]["password"]
    # The source's tokens do not open the fork; the source's customers are there, with their data.
    assert (
        client.get(
            "/customers/me",
            headers=in_sandbox(forked, {"Authorization": alice["headers"]["Authorization"]}),
        ).status_code
        == 401
    )
    twin = client.post(
        "/auth/logon",
        data={"username": "alice", "password": "correct-horse-battery"},
        headers=in_sandbox(forked),
    ).json()
    twin_headers = in_sandbox(forked, bearer(twin["access_token"]))
    assert (
        client.get(f"/accounts/{alice['account']['iban']}", headers=twin_headers).json()["balance"]
        == "10.00"
    )
    deposit(client, admin_of(client, forked), alice["account"]["iban"], "5.00")
    assert (
        client.get(f"/accounts/{alice['account']['iban']}", headers=twin_headers).json()["balance"]
        == "15.00"
    )
    register_in(client, forked, "zed")

    after = dump(sandbox_engine(app, sid))
    assert after == before
    assert (
        client.get(f"/accounts/{alice['account']['iban']}", headers=alice["headers"]).json()[
            "balance"
        ]
        == "10.00"
    )


def test_a_fork_of_a_snapshot_starts_from_the_snapshot(app: FastAPI, client: TestClient) -> None:
    source = create(client)
    sid = source["sandbox_id"]
    admin = admin_of(client, source)
    register_in(client, source, "alice")
    assert (
        client.post(f"/sandboxes/{sid}/snapshots", json={"name": "one"}, headers=admin).status_code
        == 201
    )
    register_in(client, source, "bob")
    fork = client.post(
        "/sandboxes", json={"from": {"sandbox_id": sid, "snapshot": "one"}}, headers=admin
    )
    assert fork.status_code == 201
    fork_admin = admin_of(client, fork.json())
    assert {c["name"] for c in client.get("/customers", headers=fork_admin).json()} == {
        "Alice Example"
    }
    missing = client.post(
        "/sandboxes", json={"from": {"sandbox_id": sid, "snapshot": "two"}}, headers=admin
    )
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Snapshot two not found"}


def test_snapshot_names_are_unique_listed_and_deletable(client: TestClient) -> None:
    created = create(client)
    sid = created["sandbox_id"]
    admin = admin_of(client, created)
    path = f"/sandboxes/{sid}/snapshots"
    assert client.post(path, json={"name": "a"}, headers=admin).status_code == 201
    assert client.post(path, json={"name": "b.2"}, headers=admin).status_code == 201
    duplicate = client.post(path, json={"name": "a"}, headers=admin)
    assert duplicate.status_code == 409
    for bad in ("", "-x", "a b", "x" * 64, "../up"):
        assert client.post(path, json={"name": bad}, headers=admin).status_code == 422, bad
    assert [s["name"] for s in client.get(path, headers=admin).json()] == ["a", "b.2"]
    assert client.delete(f"{path}/a", headers=admin).status_code == 204
    assert client.delete(f"{path}/a", headers=admin).status_code == 404
    restore = client.post(f"/sandboxes/{sid}/restore", json={"snapshot": "a"}, headers=admin)
    assert restore.status_code == 404
    assert restore.json() == {"detail": "Snapshot a not found"}
    assert [s["name"] for s in client.get(path, headers=admin).json()] == ["b.2"]


def test_the_default_admin_manages_every_sandbox(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    created = create(client)
    sid = created["sandbox_id"]
    register_in(client, created, "alice")
    path = f"/sandboxes/{sid}"
    assert (
        client.post(f"{path}/snapshots", json={"name": "x"}, headers=admin_headers).status_code
        == 201
    )
    register_in(client, created, "bob")
    assert (
        client.post(f"{path}/restore", json={"snapshot": "x"}, headers=admin_headers).status_code
        == 200
    )
    admin = admin_of(client, created)
    assert {c["name"] for c in client.get("/customers", headers=admin).json()} == {"Alice Example"}
    assert client.post(f"{path}/reset", headers=admin_headers).status_code == 200
    assert client.get("/customers", headers=admin_of(client, created)).json() == []
