from datetime import UTC, datetime, timedelta

import jwt
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.core.security import decode_token, dummy_hash
from app.models.refresh_token import RefreshToken
from app.models.user import User
from app.services import auth as auth_service
from tests.utils.auth import AuthedUser, bearer, logon
from tests.utils.db import count_rows, get_user
from tests.utils.tokens import app_settings, make_token

INVALID_TOKEN = {"detail": "Invalid or expired token"}
INVALID_CREDENTIALS = {"detail": "Invalid username or password"}


def refresh(client: TestClient, token: str) -> Response:
    return client.post("/auth/refresh", json={"refresh_token": token})


def assert_401(response: Response, body: dict[str, str] = INVALID_TOKEN) -> None:
    assert response.status_code == 401
    assert response.json() == body
    assert response.headers["www-authenticate"] == "Bearer"


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
    assert access.subject == refresh_claims.subject == str(user.id)
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
    assert count_rows(engine, RefreshToken, col(RefreshToken.revoked_at).is_(None)) == 0


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
    expired = make_token(app, subject=str(user.id), token_type="refresh", now=long_ago)
    assert_401(refresh(client, expired))


def test_a_validly_signed_refresh_token_never_issued_is_401(
    app: FastAPI, client: TestClient, customer: AuthedUser
) -> None:
    user = get_user(app.state.engine, "alice")
    assert user is not None
    forged = make_token(app, subject=str(user.id), token_type="refresh")
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
    expired = make_token(app, subject=str(user.id), now=an_hour_ago)
    assert_401(client.get("/customers/me", headers=bearer(expired)))
    fresh = make_token(app, subject=str(user.id))
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
    token = make_token(app, subject=str(user.id), **overrides)
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


@pytest.mark.parametrize("subject", ["not-a-number", "999999"])
def test_token_naming_no_user_is_401(app: FastAPI, client: TestClient, subject: str) -> None:
    token = make_token(app, subject=subject)
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
