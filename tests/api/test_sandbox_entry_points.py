"""seed.py --sandbox, the stdio MCP server's --sandbox, the routing of /mcp, restore under load."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

import seed
from app.core.config import Settings
from app.core.migrations import head_revisions
from app.mcp import __main__ as stdio_main
from app.services import api_keys
from tests.api.test_sandboxes import admin_of, create, in_sandbox, register_in
from tests.migrations.test_migrations import migrate
from tests.utils.auth import bearer
from tests.utils.concurrency import run_at_once
from tests.utils.mcp import MCP_HEADERS, McpCaller, initialize_body


def test_seed_fills_a_sandbox(
    client: TestClient, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    created = create(client)
    report = seed.main(
        ["--sandbox", created["sandbox_id"], "--customers", "2", "--bcrypt-rounds", "4"],
        settings=settings,
    )
    assert report.customers_created == 2
    printed = capsys.readouterr().out
    # The sandbox's staff keep the passwords shown at its creation: none is printed.
    assert seed.DEMO_ADMIN[1] not in printed
    assert "was created" in printed
    admin = admin_of(client, created)
    assert len(client.get("/customers", headers=admin).json()) == 5 + 2
    # The default bank is untouched.
    assert (
        client.post(
            "/auth/logon", data={"username": "john.doe", "password": seed.SANDBOX_PASSWORD}
        ).status_code
        == 401
    )


@pytest.mark.parametrize("argv", [["--sandbox", "sbx_aaaaaaaaaaaaaaaa"], ["--sandbox", "nope"]])
def test_seed_refuses_an_unknown_sandbox(
    client: TestClient, settings: Settings, argv: list[str]
) -> None:
    with pytest.raises(
        SystemExit, match=r"Sandbox sbx_aaaaaaaaaaaaaaaa not found|not a sandbox id"
    ):
        seed.main(argv, settings=settings)


def test_seed_refuses_reset_with_a_sandbox(settings: Settings) -> None:
    with pytest.raises(SystemExit):
        seed.main(["--sandbox", "sbx_aaaaaaaaaaaaaaaa", "--reset"], settings=settings)


def test_stdio_serves_the_sandbox_it_is_given(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = create(client)
    served: list[str] = []

    def build(*, engine: Engine, settings: Settings, **_: Any) -> Any:
        served.append(str(engine.url))

        class Server:
            def run(self, transport: str) -> None:
                served.append(transport)

        return Server()

    monkeypatch.setattr(stdio_main, "build_mcp_server", build)
    stdio_main.main(settings, argv=["--sandbox", created["sandbox_id"]])
    assert created["sandbox_id"] in served[0]
    assert served[1] == "stdio"
    with pytest.raises(SystemExit, match="not found"):
        stdio_main.main(settings, argv=["--sandbox", "sbx_aaaaaaaaaaaaaaaa"])


def test_mcp_with_a_token_of_a_sandbox_serves_that_sandbox(client: TestClient) -> None:
    created = create(client, template="demo", customers=1)
    analyst = created["credentials"]["analyst"]
    token = client.post(
        "/auth/logon",
        data={"username": analyst["username"], "password": analyst["password"]},
        headers=in_sandbox(created),
    ).json()["access_token"]
    assert McpCaller(client, bearer(token)).ok("list_customers")["total"] == 6
    # The same token with another sandbox's header is refused with the reason.
    other = create(client)
    headers = {**bearer(token), **MCP_HEADERS, **in_sandbox(other)}
    refused = client.post("/mcp", json=initialize_body(), headers=headers)
    assert refused.status_code == 401
    assert "another sandbox" in refused.headers["WWW-Authenticate"]


@pytest.mark.parametrize(
    ("key", "sandbox"),
    [
        ("obk_abcdefghijklmnop", "default"),
        ("obk_sbx_abcdefghijklmnop.secret", "sbx_abcdefghijklmnop"),
        ("obk_nope.secret", None),
    ],
)
def test_a_key_names_its_sandbox(key: str, sandbox: str | None) -> None:
    assert api_keys.sandbox_of_key(key) == sandbox


def test_requests_during_a_restore_see_the_old_state_or_the_new_one(
    app: FastAPI, client: TestClient
) -> None:
    created = create(client)
    sid = created["sandbox_id"]
    admin = admin_of(client, created)
    register_in(client, created, "alice")
    assert (
        client.post(f"/sandboxes/{sid}/snapshots", json={"name": "one"}, headers=admin).status_code
        == 201
    )
    register_in(client, created, "bob")
    admin = admin_of(client, created)  # after the snapshot: will not survive the restore

    def work(worker: TestClient, index: int) -> list[int]:
        if index == 0:
            restored = worker.post(
                f"/sandboxes/{sid}/restore", json={"snapshot": "one"}, headers=admin
            )
            assert restored.status_code == 200, restored.text
            return []
        seen = []
        for _ in range(10):
            answer = worker.get("/countries", headers=in_sandbox(created))
            assert answer.status_code == 200, answer.text
            listing = worker.get("/health", headers=in_sandbox(created))
            assert listing.status_code == 200, listing.text
            seen.append(answer.status_code)
        return seen

    results = run_at_once(app, 6, work)
    assert all(code == 200 for codes in results for code in codes)
    fresh_admin = admin_of(client, created)
    names = {c["name"] for c in client.get("/customers", headers=fresh_admin).json()}
    assert names == {"Alice Example"}


def test_a_sandbox_at_an_older_schema_is_migrated_when_opened(
    app: FastAPI, client: TestClient
) -> None:
    created = create(client)
    sid = created["sandbox_id"]
    hub = app.state.sandboxes
    engine = hub.resolve(sid)[0].engine
    migrate(engine, "0006", down=True)  # as a database made before sandboxes existed
    hub.forget(sid)  # as after a restart: the next request opens the database again
    assert client.get("/countries", headers=in_sandbox(created)).status_code == 200
    with hub.resolve(sid)[0].engine.connect() as connection:
        version = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        tables = set(inspect(connection).get_table_names())
    assert {version} == head_revisions()
    assert {"sandbox", "sandbox_snapshot", "sandbox_clock"} <= tables
