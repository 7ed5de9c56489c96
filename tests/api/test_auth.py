import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.api.deps import Credential
from app.core import security
from app.core.config import Settings
from app.core.security import decode_token, dummy_hash
from app.models.auth_session import AuthSession
from app.models.user import User
from app.services import auth as auth_service
from tests.utils.auth import AuthedUser, bearer, logon, register_customer
from tests.utils.databases import on_postgres
from tests.utils.db import count_rows, get_user
from tests.utils.money import deposit, transfer_body
from tests.utils.tokens import app_settings, make_token, session_of

INVALID_TOKEN = {"detail": "Invalid or expired token"}
INVALID_CREDENTIALS = {"detail": "Invalid username or password"}


def refresh(client: TestClient, token: str) -> Response:
    return client.post("/auth/refresh", json={"refresh_token": token})


def assert_401(response: Response, body: dict[str, str] = INVALID_TOKEN) -> None:
    assert response.status_code == 401
    assert response.json() == body
    challenge = response.headers["www-authenticate"]
    if body in (INVALID_CREDENTIALS, {"detail": "Not authenticated"}):
        assert challenge == "Bearer"
    else:
        # RFC 6750: a refused token is named, with why.
        assert challenge.startswith('Bearer error="invalid_token", error_description="')


# Logon


def test_logon_returns_a_token_pair(app: FastAPI, client: TestClient, customer: AuthedUser) -> None:
    response = client.post("/auth/logon", data={"username": "alice", "password": customer.password})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"message", "access_token", "refresh_token", "token_type", "expires_in"}
    assert body["message"] == "Logon successful"
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 15 * 60
    settings = app_settings(app)
    assert settings.secret_key is not None
    access = decode_token(settings, settings.secret_key, body["access_token"], "access")
    refresh_claims = decode_token(settings, settings.secret_key, body["refresh_token"], "refresh")
    user = get_user(app.state.engine, "alice")
    assert user is not None
    assert access.subject == refresh_claims.subject == str(user.uid)
    assert access.session_id == refresh_claims.session_id
    me = client.get("/customers/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["username"] == "alice"


def test_logon_with_wrong_password_is_401(client: TestClient, customer: AuthedUser) -> None:
    response = client.post("/auth/logon", data={"username": "alice", "password": "not-my-password"})
    assert_401(response, INVALID_CREDENTIALS)


def test_logon_with_unknown_user_is_401_with_the_same_message(client: TestClient) -> None:
    response = client.post("/auth/logon", data={"username": "nobody", "password": "whatever-pw-1"})
    assert_401(response, INVALID_CREDENTIALS)


@pytest.mark.parametrize("username", ["ALICE", "Alice", " alice "])
def test_logon_username_ignores_case_and_surrounding_spaces(
    client: TestClient, customer: AuthedUser, username: str
) -> None:
    tokens = logon(client, username, customer.password)
    assert tokens["message"] == "Logon successful"


def test_password_is_case_sensitive(client: TestClient, customer: AuthedUser) -> None:
    response = client.post(
        "/auth/logon", data={"username": "alice", "password": customer.password.upper()}
    )
    assert_401(response, INVALID_CREDENTIALS)


@pytest.mark.parametrize("password", ["x" * 73, "é" * 40, "correct-horse-battery" * 4])
def test_logon_with_a_password_over_72_bytes_is_401_not_500(
    client: TestClient, customer: AuthedUser, password: str
) -> None:
    response = client.post("/auth/logon", data={"username": "alice", "password": password})
    assert_401(response, INVALID_CREDENTIALS)


def test_password_over_72_bytes_is_not_truncated_to_a_valid_one(
    client: TestClient, customer: AuthedUser
) -> None:
    # bcrypt looks at 72 bytes at most; a longer password starting with the real one must fail.
    response = client.post(
        "/auth/logon", data={"username": "alice", "password": customer.password + "!" * 60}
    )
    assert_401(response, INVALID_CREDENTIALS)


@pytest.mark.parametrize(
    "data",
    [{}, {"username": "alice"}, {"password": "correct-horse-battery"}, {"grant_type": "password"}],
)
def test_logon_with_missing_form_fields_is_422(client: TestClient, data: dict[str, str]) -> None:
    response = client.post("/auth/logon", data=data)
    assert response.status_code == 422
    missing = {tuple(e["loc"]) for e in response.json()["detail"] if e["type"] == "missing"}
    expected = {("body", f) for f in ("username", "password") if f not in data}
    assert missing == expected


def test_logon_with_json_instead_of_a_form_is_422(client: TestClient, customer: AuthedUser) -> None:
    response = client.post("/auth/logon", json={"username": "alice", "password": customer.password})
    assert response.status_code == 422
    assert {tuple(e["loc"]) for e in response.json()["detail"]} == {
        ("body", "username"),
        ("body", "password"),
    }


def test_logon_with_another_grant_type_is_422(client: TestClient, customer: AuthedUser) -> None:
    response = client.post(
        "/auth/logon",
        data={
            "username": "alice",
            "password": customer.password,
            "grant_type": "client_credentials",
        },
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "grant_type"]


def test_unknown_user_is_checked_against_the_dummy_hash(
    app: FastAPI, client: TestClient, customer: AuthedUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[tuple[str, str]] = []
    real_verify = auth_service.verify_password

    def recording_verify(password: str, password_hash: str) -> bool:
        checked.append((password, password_hash))
        return real_verify(password, password_hash)

    monkeypatch.setattr(auth_service, "verify_password", recording_verify)
    rounds = app_settings(app).bcrypt_rounds

    unknown = client.post("/auth/logon", data={"username": "ghost", "password": "boo-boo-boo-1"})
    assert_401(unknown, INVALID_CREDENTIALS)
    assert checked == [("boo-boo-boo-1", dummy_hash(rounds))]
    assert dummy_hash(rounds).startswith("$2b$04$")

    checked.clear()
    wrong = client.post("/auth/logon", data={"username": "alice", "password": "wrong-password"})
    assert_401(wrong, INVALID_CREDENTIALS)
    user = get_user(app.state.engine, "alice")
    assert user is not None
    assert checked == [("wrong-password", user.password_hash)]
    assert user.password_hash != dummy_hash(rounds)


def test_a_user_whose_password_matches_the_dummy_hash_still_cannot_log_on_as_nobody(
    app: FastAPI, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Even if the dummy hash were to match, an unknown user never gets a token.
    monkeypatch.setattr(auth_service, "verify_password", lambda _password, _hash: True)
    response = client.post("/auth/logon", data={"username": "ghost", "password": "anything-1"})
    assert_401(response, INVALID_CREDENTIALS)


# Refresh


def test_refresh_rotates_the_pair(client: TestClient, customer: AuthedUser) -> None:
    response = refresh(client, customer.refresh_token)
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Logon successful"
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 900
    assert body["refresh_token"] != customer.refresh_token
    # The new access token works and the new refresh token can be rotated again.
    me = client.get("/customers/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["username"] == "alice"
    again = refresh(client, body["refresh_token"])
    assert again.status_code == 200


def test_a_rotated_refresh_token_is_401(client: TestClient, customer: AuthedUser) -> None:
    assert refresh(client, customer.refresh_token).status_code == 200
    response = refresh(client, customer.refresh_token)
    assert_401(response, {"detail": "Refresh token reuse detected; the session has been revoked"})


def test_reusing_a_refresh_token_revokes_the_whole_family(
    client: TestClient, customer: AuthedUser, engine: Engine
) -> None:
    second = refresh(client, customer.refresh_token).json()["refresh_token"]
    third = refresh(client, second).json()["refresh_token"]
    # Someone replays the first token: taken as theft, the live (third) token dies too.
    replay = refresh(client, customer.refresh_token)
    assert_401(replay, {"detail": "Refresh token reuse detected; the session has been revoked"})
    assert_401(refresh(client, third))
    assert_401(refresh(client, second))
    assert count_rows(engine, AuthSession, col(AuthSession.revoked_at).is_(None)) == 0


def test_reuse_revokes_only_that_family(client: TestClient, customer: AuthedUser) -> None:
    other_session = logon(client, "alice", customer.password)["refresh_token"]
    assert refresh(client, customer.refresh_token).status_code == 200
    assert refresh(client, customer.refresh_token).status_code == 401  # reuse: family revoked
    # A separate logon is a separate family and keeps working.
    assert refresh(client, other_session).status_code == 200


def test_access_token_is_not_a_refresh_token(client: TestClient, customer: AuthedUser) -> None:
    access = customer.headers["Authorization"].removeprefix("Bearer ")
    assert_401(refresh(client, access))
    response = client.post("/auth/logout", json={"refresh_token": access})
    assert_401(response)


def test_refresh_token_is_not_an_access_token(client: TestClient, customer: AuthedUser) -> None:
    response = client.get("/customers/me", headers=bearer(customer.refresh_token))
    assert_401(response)
    assert (
        client.get("/accounts/overview", headers=bearer(customer.refresh_token)).status_code == 401
    )


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30.x", "x" * 4096])
def test_garbage_refresh_tokens_are_401(client: TestClient, token: str) -> None:
    assert_401(refresh(client, token))


@pytest.mark.parametrize(
    "body", [{}, {"refresh_token": ""}, {"refresh_token": "x" * 4097}, {"token": "x"}]
)
def test_malformed_refresh_requests_are_422(client: TestClient, body: dict[str, str]) -> None:
    response = client.post("/auth/refresh", json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "refresh_token"]


def test_expired_refresh_token_is_401(
    app: FastAPI, client: TestClient, customer: AuthedUser
) -> None:
    user = get_user(app.state.engine, "alice")
    assert user is not None
    long_ago = datetime.now(UTC) - timedelta(days=8)
    sid = session_of(app, customer.headers["Authorization"].removeprefix("Bearer "))
    expired = make_token(
        app, subject=str(user.uid), token_type="refresh", session_id=sid, now=long_ago
    )
    assert_401(refresh(client, expired))


def test_a_validly_signed_refresh_token_never_issued_is_401(
    app: FastAPI, client: TestClient, customer: AuthedUser
) -> None:
    user = get_user(app.state.engine, "alice")
    assert user is not None
    sid = session_of(app, customer.headers["Authorization"].removeprefix("Bearer "))
    forged = make_token(app, subject=str(user.uid), token_type="refresh", session_id=sid)
    assert_401(refresh(client, forged))
    assert_401(client.post("/auth/logout", json={"refresh_token": forged}))


# Access tokens on protected routes


def test_missing_or_non_bearer_authorization_is_401(client: TestClient) -> None:
    for headers in ({}, {"Authorization": "Basic YWxpY2U6c2VjcmV0"}, {"Authorization": "Bearer"}):
        response = client.get("/customers/me", headers=headers)
        assert_401(response, {"detail": "Not authenticated"})


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "Bearer", "x" * 5000])
def test_garbage_access_tokens_are_401(client: TestClient, token: str) -> None:
    assert_401(client.get("/customers/me", headers=bearer(token)))


def test_expired_access_token_is_401(
    app: FastAPI, client: TestClient, customer: AuthedUser
) -> None:
    user = get_user(app.state.engine, "alice")
    assert user is not None
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    sid = session_of(app, customer.headers["Authorization"].removeprefix("Bearer "))
    expired = make_token(app, subject=str(user.uid), session_id=sid, now=an_hour_ago)
    assert_401(client.get("/customers/me", headers=bearer(expired)))
    fresh = make_token(app, subject=str(user.uid), session_id=sid)
    assert client.get("/customers/me", headers=bearer(fresh)).status_code == 200


@pytest.mark.parametrize(
    "overrides",
    [
        {"jwt_issuer": "someone-else"},
        {"jwt_audience": "another-service"},
        {"jwt_algorithm": "HS512"},
        {"secret": "another-secret-key-that-is-also-long-enough-0123456789"},
    ],
    ids=["issuer", "audience", "algorithm", "key"],
)
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_tokens_not_made_by_this_app_are_401(
    app: FastAPI, client: TestClient, customer: AuthedUser, overrides: dict[str, str]
) -> None:
    user = get_user(app.state.engine, "alice")
    assert user is not None
    sid = session_of(app, customer.headers["Authorization"].removeprefix("Bearer "))
    assert (
        client.get(
            "/customers/me", headers=bearer(make_token(app, subject=str(user.uid), session_id=sid))
        ).status_code
        == 200
    )
    token = make_token(app, subject=str(user.uid), session_id=sid, **overrides)
    assert_401(client.get("/customers/me", headers=bearer(token)))


def test_unsigned_alg_none_token_is_401(
    app: FastAPI, client: TestClient, customer: AuthedUser
) -> None:
    user = get_user(app.state.engine, "alice")
    assert user is not None
    settings = app_settings(app)
    now = datetime.now(UTC)
    payload = {
        "sub": str(user.id),
        "typ": "access",
        "jti": "0" * 32,
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
    }
    token = jwt.encode(payload, None, algorithm="none")
    assert_401(client.get("/customers/me", headers=bearer(token)))


def test_token_without_required_claims_is_401(
    app: FastAPI, client: TestClient, customer: AuthedUser
) -> None:
    user = get_user(app.state.engine, "alice")
    assert user is not None
    settings = app_settings(app)
    payload = {
        "sub": str(user.id),
        "typ": "access",
        "exp": datetime.now(UTC) + timedelta(minutes=5),
    }
    token = jwt.encode(payload, settings.secret_key, algorithm=settings.jwt_algorithm)
    assert_401(client.get("/customers/me", headers=bearer(token)))


@pytest.mark.parametrize("subject", ["not-a-uuid", "1", str(uuid.uuid4())])
def test_token_naming_no_user_is_401(
    app: FastAPI, client: TestClient, customer: AuthedUser, subject: str
) -> None:
    # A live session, but a subject that is no user's uid.
    sid = session_of(app, customer.headers["Authorization"].removeprefix("Bearer "))
    token = make_token(app, subject=subject, session_id=sid)
    assert_401(client.get("/customers/me", headers=bearer(token)))


def test_deleted_users_token_stops_working_at_once(
    client: TestClient, customer: AuthedUser, session: Session
) -> None:
    assert client.get("/customers/me", headers=customer.headers).status_code == 200
    user = session.exec(select(User).where(User.username == "alice")).one()
    session.delete(user)
    session.commit()
    assert_401(client.get("/customers/me", headers=customer.headers))
    assert_401(client.get("/accounts/overview", headers=customer.headers))
    # Its refresh tokens went with it (ON DELETE CASCADE).
    assert_401(refresh(client, customer.refresh_token))


# Logout


def test_logout_revokes_the_refresh_token(client: TestClient, customer: AuthedUser) -> None:
    response = client.post("/auth/logout", json={"refresh_token": customer.refresh_token})
    assert response.status_code == 204
    assert response.content == b""
    assert_401(refresh(client, customer.refresh_token))


def test_logout_revokes_tokens_rotated_from_it(client: TestClient, customer: AuthedUser) -> None:
    rotated = refresh(client, customer.refresh_token).json()["refresh_token"]
    assert client.post("/auth/logout", json={"refresh_token": rotated}).status_code == 204
    assert_401(refresh(client, rotated))


def test_logout_leaves_other_sessions_alone(client: TestClient, customer: AuthedUser) -> None:
    other = logon(client, "alice", customer.password)["refresh_token"]
    assert (
        client.post("/auth/logout", json={"refresh_token": customer.refresh_token}).status_code
        == 204
    )
    assert refresh(client, other).status_code == 200


def test_logout_twice_is_harmless(client: TestClient, customer: AuthedUser) -> None:
    for _ in range(2):
        response = client.post("/auth/logout", json={"refresh_token": customer.refresh_token})
        assert response.status_code == 204
    assert_401(refresh(client, customer.refresh_token))


@pytest.mark.parametrize("token", ["garbage", "a.b.c"])
def test_logout_with_a_bad_token_is_401(client: TestClient, token: str) -> None:
    assert_401(client.post("/auth/logout", json={"refresh_token": token}))


def test_logout_with_no_body_is_422(client: TestClient) -> None:
    response = client.post("/auth/logout")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body"]


# Identities and sessions


def test_a_deleted_customers_token_never_acts_as_the_next_customer(
    client: TestClient, engine: Engine, admin_headers: dict[str, str]
) -> None:
    first = register_customer(client, "first.user")
    first_row = get_user(engine, "first.user")
    assert first_row is not None
    deleted = client.delete(f"/customer/{first.customer_oid}", headers=admin_headers)
    assert deleted.status_code == 200
    second = register_customer(client, "second.user", name="Second User")
    second_row = get_user(engine, "second.user")
    assert second_row is not None
    if not on_postgres():
        # SQLite hands the deleted row's id out again: that id must not be what tokens name.
        assert second_row.id == first_row.id
    assert second_row.uid != first_row.uid
    deposit(client, admin_headers, second.iban, "50.00")

    assert_401(client.get("/customers/me", headers=first.headers))
    stolen = client.post(
        "/transfers",
        json=transfer_body(second.iban, first.iban, "10.00"),
        headers=first.headers,
    )
    assert_401(stolen)
    overview = client.get("/accounts/overview", headers=second.headers).json()
    assert overview["accounts"][0]["balance"] == "50.00"


def test_logout_ends_the_sessions_access_tokens_at_once(
    client: TestClient, customer: AuthedUser
) -> None:
    other = logon(client, "alice", customer.password)
    assert client.get("/customers/me", headers=customer.headers).status_code == 200
    response = client.post("/auth/logout", json={"refresh_token": customer.refresh_token})
    assert response.status_code == 204
    assert_401(client.get("/customers/me", headers=customer.headers))
    assert_401(client.get("/accounts/overview", headers=customer.headers))
    # Another logon of the same customer is another session and lives on.
    assert client.get("/customers/me", headers=bearer(other["access_token"])).status_code == 200


def test_logout_also_ends_access_tokens_issued_by_rotation(
    client: TestClient, customer: AuthedUser
) -> None:
    rotated = refresh(client, customer.refresh_token).json()
    assert (
        client.post("/auth/logout", json={"refresh_token": rotated["refresh_token"]}).status_code
        == 204
    )
    assert_401(client.get("/customers/me", headers=bearer(rotated["access_token"])))
    assert_401(client.get("/customers/me", headers=customer.headers))


def test_refresh_token_reuse_ends_the_sessions_access_tokens_at_once(
    client: TestClient, customer: AuthedUser
) -> None:
    rotated = refresh(client, customer.refresh_token).json()
    assert client.get("/customers/me", headers=bearer(rotated["access_token"])).status_code == 200
    assert refresh(client, customer.refresh_token).status_code == 401  # reuse: theft
    assert_401(client.get("/customers/me", headers=bearer(rotated["access_token"])))
    assert_401(client.get("/customers/me", headers=customer.headers))


def test_an_access_token_of_a_session_that_never_existed_is_401(
    app: FastAPI, client: TestClient, customer: AuthedUser, engine: Engine
) -> None:
    user = get_user(engine, "alice")
    assert user is not None
    assert_401(
        client.get(
            "/customers/me",
            headers=bearer(make_token(app, subject=str(user.uid), session_id=uuid.uuid4().hex)),
        )
    )


@pytest.mark.parametrize("path", ["/auth/logon", "/auth/refresh"])
def test_responses_carrying_tokens_are_not_stored(
    client: TestClient, customer: AuthedUser, path: str
) -> None:
    if path == "/auth/logon":
        response = client.post(path, data={"username": "alice", "password": customer.password})
    else:
        response = refresh(client, customer.refresh_token)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"


def test_a_logon_that_finds_no_free_hashing_slot_in_time_is_503(
    make_client: Callable[..., TestClient], customer: AuthedUser
) -> None:
    client = make_client(password_hash_concurrency=1, password_hash_queue_seconds=0.05)
    started, release = threading.Event(), threading.Event()
    security._hashing_pool(1).submit(lambda: (started.set(), release.wait(10)))
    assert started.wait(5)
    try:
        response = client.post(
            "/auth/logon", data={"username": "alice", "password": customer.password}
        )
    finally:
        release.set()
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.json() == {"detail": "Too many logons at once, try again in a moment"}
    # Once the slot is free again, the same logon works.
    assert (
        client.post(
            "/auth/logon", data={"username": "alice", "password": customer.password}
        ).status_code
        == 200
    )


def test_a_credential_keeps_its_token_out_of_its_repr(settings: Settings) -> None:
    credential = Credential(token="eyJ.secret-token-text", settings=settings)
    assert "secret-token-text" not in repr(credential)
    assert settings.secret_key not in repr(credential)
