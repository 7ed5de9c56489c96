"""POST /mcp: the token gate, the route, the transport settings and the lifespan."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from app.core.config import Settings
from app.mcp.http import McpHttpEndpoint, transport_security
from app.models.user import User
from app.services import auth
from tests.utils.auth import AuthedUser, bearer, create_staff_user, logon, logon_headers
from tests.utils.db import get_user
from tests.utils.mcp import BASE_URL, MCP_HEADERS, MCP_URL, McpCaller, initialize_body, leaves
from tests.utils.tokens import make_token, session_of

TOOLS = {
    "list_customers",
    "customer_exists",
    "get_portfolio",
    "get_portfolio_summary",
    "get_transactions",
    "get_spending_by_category",
    "get_account_statement",
    "health",
}


def post_mcp(client: TestClient, headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
    body = kwargs.pop("json", initialize_body())
    return client.post("/mcp", json=body, headers={**MCP_HEADERS, **(headers or {})}, **kwargs)


def assert_refused(response: Any, status: int, error: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    assert f'error="{error}"' in challenge


# --- the token gate -----------------------------------------------------------------------------


def test_no_token_is_401_with_a_bearer_challenge(client: TestClient) -> None:
    assert_refused(post_mcp(client), 401, "invalid_token")


@pytest.mark.parametrize(
    "authorization",
    ["Bearer garbage", "Bearer ", "Basic YWxpY2U6c2VjcmV0", "bearer not.a.jwt", "Token abc"],
)
def test_a_malformed_or_foreign_credential_is_401(client: TestClient, authorization: str) -> None:
    assert_refused(post_mcp(client, {"Authorization": authorization}), 401, "invalid_token")


def test_a_customer_token_is_403_insufficient_scope(
    client: TestClient, customer: AuthedUser
) -> None:
    response = post_mcp(client, customer.headers)
    assert_refused(response, 403, "insufficient_scope")
    assert response.json()["error_description"] == "Required scope: analyst"


def test_tokens_the_rest_api_refuses_are_refused_here_too(
    app: FastAPI, client: TestClient, engine: Engine, analyst_headers: dict[str, str]
) -> None:
    analyst = get_user(engine, "agent.analyst")
    assert analyst is not None
    subject = str(analyst.uid)
    sid = session_of(app, analyst_headers["Authorization"].removeprefix("Bearer "))
    long_ago = datetime.now(UTC) - timedelta(hours=2)
    refused = {
        "expired": make_token(app, subject=subject, session_id=sid, now=long_ago),
        "refresh token": logon(client, "agent.analyst", "analyst-password-123")["refresh_token"],
        "other issuer": make_token(app, subject=subject, session_id=sid, jwt_issuer="someone-else"),
        "other key": make_token(
            app, subject=subject, session_id=sid, secret="another-secret-" + "x" * 40
        ),
        "unknown user": make_token(app, subject=str(uuid.uuid4()), session_id=sid),
        "unknown session": make_token(app, subject=subject, session_id="f" * 32),
    }
    for name, token in refused.items():
        response = post_mcp(client, bearer(token))
        assert response.status_code == 401, name
        # ... and the REST API agrees.
        assert client.get("/customers", headers=bearer(token)).status_code == 401, name


def test_a_deleted_users_token_stops_at_once(
    client: TestClient, engine: Engine, analyst_headers: dict[str, str]
) -> None:
    assert post_mcp(client, analyst_headers).status_code == 200
    from app.core.db import new_session, write_transaction

    with new_session(engine) as session, write_transaction(session):
        user = session.get(User, get_user(engine, "agent.analyst").id)  # type: ignore[union-attr]
        session.delete(user)
    assert post_mcp(client, analyst_headers).status_code == 401


@pytest.mark.parametrize("role", ["analyst", "admin"])
def test_analysts_and_admins_get_initialize(client: TestClient, engine: Engine, role: str) -> None:
    create_staff_user(engine, f"mcp.{role}", "staff-password-123", role=role)
    response = post_mcp(client, logon_headers(client, f"mcp.{role}", "staff-password-123"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    result = response.json()["result"]
    assert result["serverInfo"]["name"] == "openbank-api"
    assert result["serverInfo"]["version"] == "0.1.0"
    assert set(result["capabilities"]) >= {"tools", "resources", "prompts"}
    assert "list_customers" in result["instructions"]
    # Stateless: no session to keep, so none is handed out.
    assert "mcp-session-id" not in response.headers


def test_the_sdk_client_lists_the_tools_with_an_analyst_or_admin_token(
    analyst_mcp: McpCaller, admin_mcp: McpCaller
) -> None:
    assert set(analyst_mcp.tools()) == TOOLS
    assert set(admin_mcp.tools()) == TOOLS


def sdk_statuses(client: TestClient, headers: dict[str, str], mode: str) -> tuple[list[int], Any]:
    """The HTTP statuses the SDK's client saw, and what it raised, connecting with `headers`."""
    statuses: list[int] = []

    async def record(response: httpx2.Response) -> None:
        statuses.append(response.status_code)

    async def connect() -> Any:
        async with httpx2.AsyncClient(
            transport=httpx2.ASGITransport(app=client.app),
            base_url=BASE_URL,
            headers=headers,
            event_hooks={"response": [record]},
        ) as http:
            try:
                async with Client(streamable_http_client(MCP_URL, http_client=http), mode=mode):
                    return None
            except BaseException as exc:  # the SDK raises inside its task groups
                return exc

    assert client.portal is not None
    return statuses, client.portal.call(connect)


@pytest.mark.parametrize("mode", ["legacy", "auto"])
def test_the_sdk_client_is_refused_without_a_token_or_with_a_customers(
    client: TestClient, customer: AuthedUser, mode: str
) -> None:
    for headers, status in (({}, 401), (customer.headers, 403)):
        statuses, raised = sdk_statuses(client, headers, mode)
        assert raised is not None
        assert any(isinstance(leaf, MCPError) for leaf in leaves(raised)), raised
        assert statuses
        assert set(statuses) == {status}


# --- the route ----------------------------------------------------------------------------------


def test_mcp_is_served_at_exactly_slash_mcp_without_a_redirect(
    client: TestClient, analyst_headers: dict[str, str]
) -> None:
    response = post_mcp(client, analyst_headers, follow_redirects=False)
    assert response.status_code == 200
    # The trailing-slash form is redirected to the one URL (a client configured with it still
    # gets there); the endpoint is not in the REST API's OpenAPI document.
    slash = client.post("/mcp/", json=initialize_body(), follow_redirects=False)
    assert slash.status_code == 307
    assert slash.headers["location"].endswith("/mcp")
    assert "/mcp" not in client.get("/openapi.json").json()["paths"]


@pytest.mark.parametrize("method", ["GET", "DELETE", "PUT"])
def test_only_post_is_served(
    client: TestClient, analyst_headers: dict[str, str], method: str
) -> None:
    response = client.request(method, "/mcp", headers={**MCP_HEADERS, **analyst_headers})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json() == {"detail": "Method Not Allowed"}


def test_requests_are_stateless_any_worker_answers_any_request(
    client: TestClient, make_client: Callable[..., TestClient], analyst_headers: dict[str, str]
) -> None:
    """A second app on the same database stands in for another worker: it serves a call that
    did not initialize with it, since nothing is kept between requests."""
    other_worker = make_client()
    call = {
        "jsonrpc": "2.0",
        "id": 7,
        "method": "tools/call",
        "params": {"name": "health", "arguments": {}},
    }
    assert post_mcp(client, analyst_headers).status_code == 200
    response = other_worker.post(
        "/mcp",
        json=call,
        headers={**MCP_HEADERS, **analyst_headers, "MCP-Protocol-Version": "2025-06-18"},
    )
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    assert result["isError"] is False
    assert result["structuredContent"]["database"] == "connected"


def test_a_body_over_the_limit_is_413(
    make_client: Callable[..., TestClient], analyst_headers: dict[str, str]
) -> None:
    client = make_client(max_body_bytes=2048)
    padded = initialize_body() | {"padding": "x" * 4096}
    response = post_mcp(client, analyst_headers, json=padded)
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body too large (limit 2048 bytes)"}

    def chunks() -> Any:  # no Content-Length: counted as it arrives
        yield b'{"jsonrpc": "2.0", "padding": "'
        for _ in range(5):
            yield b"x" * 1000
        yield b'"}'

    streamed = client.post(
        "/mcp",
        content=chunks(),
        headers={**MCP_HEADERS, **analyst_headers, "Content-Type": "application/json"},
    )
    assert streamed.status_code == 413
    assert "Request body too large" in streamed.text


def test_malformed_json_rpc_is_a_json_rpc_parse_error(
    client: TestClient, analyst_headers: dict[str, str]
) -> None:
    response = client.post(
        "/mcp",
        content=b"{not json",
        headers={**MCP_HEADERS, **analyst_headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == -32700


def test_the_token_check_answers_503_when_the_database_is_down(
    client: TestClient, analyst_headers: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for error in (OperationalError("SELECT", {}, Exception("down")), PoolTimeoutError("busy")):

        def unavailable(*_args: Any, error: Exception = error, **_kwargs: Any) -> User:
            raise error

        monkeypatch.setattr(auth, "user_from_access_token", unavailable)
        response = post_mcp(client, analyst_headers)
        assert response.status_code == 503
        assert response.json() == {"detail": "Database unavailable, try again later"}
        assert response.headers["retry-after"] == "1"


# --- transport security (Host / Origin) --------------------------------------------------------


def test_host_checks_are_off_by_default(settings: Settings) -> None:
    assert settings.mcp_allowed_hosts == []
    assert transport_security(settings).enable_dns_rebinding_protection is False


def test_allowed_hosts_turn_on_the_sdks_host_and_origin_checks(
    make_client: Callable[..., TestClient], analyst_headers: dict[str, str]
) -> None:
    strict = make_client(mcp_allowed_hosts=["bank.example.com", "127.0.0.1:*"])
    assert post_mcp(strict, analyst_headers).status_code == 421  # Host: testserver
    allowed = {**analyst_headers, "Host": "bank.example.com"}
    assert post_mcp(strict, allowed).status_code == 200
    assert post_mcp(strict, {**analyst_headers, "Host": "127.0.0.1:8000"}).status_code == 200
    assert post_mcp(strict, {**allowed, "Origin": "https://bank.example.com"}).status_code == 200
    assert post_mcp(strict, {**allowed, "Origin": "https://evil.example"}).status_code == 403


def test_allowed_hosts_become_allowed_origins(settings: Settings) -> None:
    security = transport_security(settings.model_copy(update={"mcp_allowed_hosts": ["h:*"]}))
    assert security.enable_dns_rebinding_protection is True
    assert security.allowed_hosts == ["h:*"]
    assert security.allowed_origins == ["http://h:*", "https://h:*"]


# --- the lifespan -------------------------------------------------------------------------------


def test_the_session_manager_runs_for_exactly_the_apps_lifespan(
    settings: Settings, analyst_headers: dict[str, str]
) -> None:
    from app.main import create_app

    application = create_app(settings)
    endpoint: McpHttpEndpoint = application.state.mcp_http
    cold = TestClient(application)  # not started: no lifespan, no session manager
    response = post_mcp(cold, analyst_headers)
    assert response.status_code == 503
    assert response.json() == {"detail": "The MCP server is not running"}

    for _ in range(2):  # started, stopped, and started again (a new session manager each time)
        with TestClient(application) as started:
            assert post_mcp(started, analyst_headers).status_code == 200
            manager = application.state.mcp_server.session_manager
            assert manager._has_started
            assert manager._task_group is not None
        assert manager._task_group is None  # stopped with the app
        assert endpoint._apps == []


def test_two_lifespans_of_one_app_at_once_each_serve(
    app: FastAPI, client: TestClient, analyst_headers: dict[str, str]
) -> None:
    with TestClient(app) as second:
        assert post_mcp(second, analyst_headers).status_code == 200
    assert post_mcp(client, analyst_headers).status_code == 200


def test_mcp_enabled_false_leaves_no_endpoint(
    make_client: Callable[..., TestClient], analyst_headers: dict[str, str]
) -> None:
    client = make_client(mcp_enabled=False)
    assert post_mcp(client, analyst_headers).status_code == 404
    assert client.app.state.mcp_server is None  # type: ignore[attr-defined]


def test_the_refusal_says_why_for_access_tokens_too(
    app: FastAPI, client: TestClient, engine: Engine, analyst_headers: dict[str, str]
) -> None:
    analyst = get_user(engine, "agent.analyst")
    assert analyst is not None
    sid = session_of(app, analyst_headers["Authorization"].removeprefix("Bearer "))
    long_ago = datetime.now(UTC) - timedelta(hours=2)
    expired = make_token(app, subject=str(analyst.uid), session_id=sid, now=long_ago)
    response = post_mcp(client, bearer(expired))
    assert response.status_code == 401
    assert response.json()["error_description"] == (
        "The token has expired: log on again or refresh it"
    )
    tokens = logon(client, "agent.analyst", "analyst-password-123")
    client.post("/auth/logout", json={"refresh_token": tokens["refresh_token"]})
    ended = post_mcp(client, bearer(tokens["access_token"]))
    assert ended.status_code == 401
    assert "session has ended" in ended.json()["error_description"]
    assert "session has ended" in ended.headers["www-authenticate"]
