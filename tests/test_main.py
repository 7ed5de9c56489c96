"""The application factory: error handlers, start-up data and the lazily built module app."""

import logging
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.exc import DataError, IntegrityError

import app.main as main_module
from app.core.config import ConfigError, Settings, get_settings
from app.main import _json_safe, _without_secrets, create_app
from app.models.institution import Institution
from app.models.user import Role, User
from tests.utils.auth import AuthedUser, bearer, logon
from tests.utils.db import count_rows, get_user
from tests.utils.money import transfer_body


def test_integrity_error_that_reaches_the_handler_is_409(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    application = create_app(settings)

    @application.get("/_test/integrity")
    def conflicting() -> None:
        raise IntegrityError("INSERT INTO user ...", {}, Exception("UNIQUE constraint failed"))

    with TestClient(application) as client, caplog.at_level(logging.WARNING, logger="app"):
        response = client.get("/_test/integrity")
    assert response.status_code == 409
    assert response.json() == {"detail": "The request conflicts with existing data"}
    assert "UNIQUE constraint failed" not in response.text
    assert "integrity error reached the handler" in caplog.text


def test_data_error_that_reaches_the_handler_is_422(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    application = create_app(settings)

    @application.get("/_test/data")
    def refused() -> None:
        raise DataError("SELECT ...", {}, Exception("text fields cannot contain NUL bytes"))

    with TestClient(application) as client, caplog.at_level(logging.WARNING, logger="app"):
        response = client.get("/_test/data")
    assert response.status_code == 422
    assert response.json() == {"detail": "A value in the request cannot be stored"}
    assert "NUL" not in response.text
    assert "data error reached the handler" in caplog.text


def test_nul_bytes_in_text_are_a_4xx_on_every_database(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    # PostgreSQL refuses NUL in text where SQLite stores it: either way, never a 500.
    registered = client.post(
        "/customers/register",
        json={
            "name": "Nul\u0000Byte",
            "dob": "1990-01-01",
            "address": "Damrak 1, Amsterdam",
            "country": "NL",
            "id_document": "NL1234567",
            "username": "nul.byte",
        },
    )
    assert registered.status_code == 422  # a name holds no control characters
    listed = client.get("/customers", params={"name": "a\u0000b"}, headers=admin_headers)
    assert listed.status_code in (200, 422)
    assert client.delete("/admin/currencies/%00EU", headers=admin_headers).status_code == 404


def test_free_text_with_a_nul_is_refused_alike_on_every_database(
    client: TestClient,
    customer: AuthedUser,
    other_customer: AuthedUser,
    admin_headers: dict[str, str],
) -> None:
    # Stored as given, but for NUL, which PostgreSQL cannot store: the same 422 on SQLite,
    # naming the field, and the schema's pattern says so.
    registration = {
        "name": "Nul Byte",
        "dob": "1990-01-01",
        "address": "Damrak 1, Amsterdam",
        "country": "NL",
        "id_document": "NL1234567",
        "username": "nul.byte",
    }
    for field in ("address", "id_document"):
        response = client.post(
            "/customers/register", json=registration | {field: registration[field] + "\u0000"}
        )
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", field]
    transfer = transfer_body(other_customer.iban, customer.iban, "1.00") | {
        "description": "a\u0000"
    }
    response = client.post("/transfers", json=transfer, headers=other_customer.headers)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "description"]
    response = client.post(
        f"/admin/accounts/{customer.iban}/deposit",
        json={"amount": "1.00", "description": "top\u0000up"},
        headers=admin_headers,
    )
    assert response.status_code == 422
    # Other characters are kept as they were sent.
    response = client.post(
        f"/admin/accounts/{customer.iban}/deposit",
        json={"amount": "1.00", "description": "top-up \u00e9\u20ac"},
        headers=admin_headers,
    )
    assert response.status_code == 201
    assert response.json()["description"] == "top-up \u00e9\u20ac"
    schema = client.get("/openapi.json").json()["components"]["schemas"]
    assert schema["TransferCreate"]["properties"]["description"]["pattern"] == "^[^\\x00]*$"


def test_unexpected_error_is_a_json_500_without_a_trace(settings: Settings) -> None:
    application = create_app(settings)

    @application.get("/_test/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    with TestClient(application, raise_server_exceptions=False) as client:
        response = client.get("/_test/boom")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error"}
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text


def test_json_safe_replaces_what_json_cannot_carry() -> None:
    assert _json_safe({"a": [float("nan"), float("inf"), 1.5, "ok\ud800", None, 3]}) == {
        "a": ["nan", "inf", 1.5, "ok?", None, 3]
    }
    assert _json_safe({"\udfff": True}) == {"?": True}


@pytest.mark.parametrize(
    "name",
    [
        "password",
        "new_password",
        "refresh_token",
        "access_token",
        "api_key",
        "X-API-Key",
        "client_secret",
        "Authorization",
        "passphrase",
        "credentials",
        "Idempotency-Key",
    ],
)
def test_validation_errors_never_echo_secret_fields(name: str) -> None:
    error = {"type": "string_too_long", "loc": ("body", name), "msg": "Too long", "input": "s3"}
    assert _without_secrets(error, form_body=False) == {
        "type": "string_too_long",
        "loc": ("body", name),
        "msg": "Too long",
    }
    nested = {"type": "missing", "loc": ("body", "x"), "msg": "Field required"}
    body = {"outer": [{name: "s3", "name": "Al"}]}
    assert _without_secrets({**nested, "input": body}, form_body=False)["input"] == {
        "outer": [{name: "[redacted]", "name": "Al"}]
    }


def test_validation_errors_keep_harmless_input() -> None:
    error = {"type": "int_parsing", "loc": ("query", "limit"), "msg": "Bad", "input": "ten"}
    assert _without_secrets(error, form_body=True) == error  # a form rule is for the body only
    assert _without_secrets({"type": "x", "loc": ("body",), "msg": "m"}, form_body=False) == {
        "type": "x",
        "loc": ("body",),
        "msg": "m",
    }


def test_start_up_is_idempotent(settings: Settings, make_client: Callable[..., TestClient]) -> None:
    with TestClient(create_app(settings)) as first:
        assert first.get("/countries").status_code == 200
    with TestClient(create_app(settings)) as second:
        assert [c["iso_code"] for c in second.get("/countries").json()] == ["BE", "DE", "NL"]
        assert [c["code"] for c in second.get("/currencies").json()] == ["EUR", "GBP", "USD"]
        engine = second.app.state.engine
        assert count_rows(engine, Institution, Institution.is_own_bank) == 1


def test_reference_data_changed_by_an_admin_survives_a_restart(
    client: TestClient, admin_headers: dict[str, str], make_client: Callable[..., TestClient]
) -> None:
    assert client.delete("/admin/countries/DE", headers=admin_headers).status_code == 204
    restarted = make_client()
    assert [c["iso_code"] for c in restarted.get("/countries").json()] == ["BE", "NL"]


def test_bootstrap_admin_is_created_and_can_log_on(make_client: Callable[..., TestClient]) -> None:
    client = make_client(admin_username="Boss", admin_password="first-admin-password")
    tokens = logon(client, "boss", "first-admin-password")
    response = client.get("/admin/countries", headers=bearer(tokens["access_token"]))
    assert response.status_code == 200
    admin = get_user(client.app.state.engine, "boss")
    assert admin is not None
    assert admin.role == Role.admin
    assert admin.customer_id is None


def test_bootstrap_admin_password_is_never_reset(make_client: Callable[..., TestClient]) -> None:
    first = make_client(admin_username="boss", admin_password="first-admin-password")
    assert logon(first, "boss", "first-admin-password")["message"] == "Logon successful"
    second = make_client(admin_username="boss", admin_password="second-admin-password")
    assert logon(second, "boss", "first-admin-password")["message"] == "Logon successful"
    response = second.post(
        "/auth/logon", data={"username": "boss", "password": "second-admin-password"}
    )
    assert response.status_code == 401
    assert count_rows(second.app.state.engine, User, User.role == Role.admin) == 1


def test_bootstrap_admin_never_takes_over_an_existing_user(
    client: TestClient, customer: AuthedUser, make_client: Callable[..., TestClient]
) -> None:
    restarted = make_client(admin_username="ALICE", admin_password="hijack-password-123")
    assert (
        restarted.post(
            "/auth/logon", data={"username": "alice", "password": "hijack-password-123"}
        ).status_code
        == 401
    )
    headers = bearer(logon(restarted, "alice", customer.password)["access_token"])
    assert restarted.get("/admin/countries", headers=headers).status_code == 403


@pytest.mark.parametrize(
    ("username", "password"), [("boss", None), (None, "lonely-password"), ("", "x" * 12)]
)
def test_no_bootstrap_admin_unless_both_are_set(
    make_client: Callable[..., TestClient], username: str | None, password: str | None
) -> None:
    client = make_client(admin_username=username, admin_password=password)
    assert count_rows(client.app.state.engine, User) == 0


def test_create_app_refuses_production_without_a_secret_key(settings: Settings) -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY must be set"):
        create_app(settings.model_copy(update={"environment": "production", "secret_key": None}))


def test_create_app_refuses_a_weak_bootstrap_admin_in_production(
    settings: Settings, make_client: Callable[..., TestClient]
) -> None:
    weak = settings.model_copy(
        update={"environment": "production", "admin_username": "boss", "admin_password": "a"}
    )
    with pytest.raises(ConfigError, match="ADMIN_PASSWORD does not follow the password rule"):
        create_app(weak)
    client = make_client()  # the same database, started without the weak admin
    assert count_rows(client.app.state.engine, User) == 0


DOCS_PATHS = [
    "/docs",
    "/redoc",
    "/openapi.json",
    "/docs/oauth2-redirect",
    "/static-offline-docs/swagger-ui.css",
    "/static-offline-docs/redoc.standalone.js",
]


def test_docs_are_off_in_production(make_client: Callable[..., TestClient]) -> None:
    client = make_client(environment="production")
    for path in DOCS_PATHS:
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json() == {"detail": "Not Found"}
        assert response.headers["x-frame-options"] == "DENY"
    landing = client.get("/").json()
    assert (landing["docs"], landing["redoc"], landing["health"]) == (None, None, "/health")
    assert client.get("/health").status_code == 200  # the API itself is there


def test_docs_enabled_serves_them_in_production(make_client: Callable[..., TestClient]) -> None:
    client = make_client(environment="production", docs_enabled=True)
    for path in DOCS_PATHS:
        assert client.get(path).status_code == 200, path
    assert client.get("/").json()["docs"] == "/docs"


def test_docs_can_be_turned_off_outside_production(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(docs_enabled=False)
    assert [client.get(path).status_code for path in DOCS_PATHS] == [404] * len(DOCS_PATHS)


def test_module_app_is_built_on_first_access(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("SECRET_KEY", "ADMIN_USERNAME", "ADMIN_PASSWORD", "ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'lazy.db'}")
    monkeypatch.setenv("BCRYPT_ROUNDS", "4")
    get_settings.cache_clear()
    assert "app" not in vars(main_module)
    try:
        application = main_module.app
        assert isinstance(application, FastAPI)
        assert main_module.app is application
        key_file = tmp_path / ".openbank_secret"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        with TestClient(application) as client:
            assert client.get("/health").json()["database"] == "connected"
        assert (tmp_path / "lazy.db").exists()
    finally:
        vars(main_module).pop("app", None)
        get_settings.cache_clear()


def test_module_has_no_other_lazy_attributes() -> None:
    with pytest.raises(AttributeError):
        _ = main_module.not_an_app
