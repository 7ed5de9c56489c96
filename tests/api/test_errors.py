"""Malformed input of every kind: a JSON `{"detail": ...}` with a 4xx status, never a 500."""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from app.models.customer import Customer
from tests.utils.auth import AuthedUser, registration_body
from tests.utils.db import count_rows

LIMIT = 2048


@pytest.fixture
def small_client(make_client: Any) -> TestClient:
    """An app whose request bodies may be at most 2048 bytes."""
    client: TestClient = make_client(max_body_bytes=LIMIT)
    return client


def json_bytes(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def padded_registration(username: str, size: int) -> bytes:
    """A valid registration of exactly `size` bytes (the padding is an ignored extra field)."""
    body = registration_body(username, padding="")
    body["padding"] = "x" * (size - len(json_bytes(body)))
    encoded = json_bytes(body)
    assert len(encoded) == size
    return encoded


def chunks(total: int, size: int = 512) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield b" " * min(size, total - sent)
        sent += size


JSON = {"content-type": "application/json"}
TOO_LARGE = {"detail": f"Request body too large (limit {LIMIT} bytes)"}


# Body size


def test_body_at_the_limit_is_accepted(small_client: TestClient) -> None:
    response = small_client.post(
        "/customers/register", content=padded_registration("at.limit", LIMIT), headers=JSON
    )
    assert response.status_code == 201
    assert response.json()["username"] == "at.limit"


def test_body_over_the_limit_is_413(small_client: TestClient, engine: Engine) -> None:
    response = small_client.post(
        "/customers/register", content=padded_registration("over.limit", LIMIT + 1), headers=JSON
    )
    assert response.status_code == 413
    assert response.json() == TOO_LARGE
    assert response.headers["content-type"] == "application/json"
    assert count_rows(engine, Customer) == 0


def test_large_json_body_via_the_json_argument_is_413(small_client: TestClient) -> None:
    body = registration_body("big.name", address="A" * 5000)
    response = small_client.post("/customers/register", json=body)
    assert response.status_code == 413
    assert response.json() == TOO_LARGE


def test_chunked_body_over_the_limit_is_413(small_client: TestClient, engine: Engine) -> None:
    response = small_client.post("/customers/register", content=chunks(LIMIT * 4), headers=JSON)
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.json() == TOO_LARGE
    assert count_rows(engine, Customer) == 0


def test_chunked_form_over_the_limit_is_413(small_client: TestClient) -> None:
    def form() -> Iterator[bytes]:
        yield b"username=alice&password="
        yield from (b"x" * 512 for _ in range(8))

    response = small_client.post(
        "/auth/logon",
        content=form(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
    assert response.json() == TOO_LARGE


def test_chunked_body_under_the_limit_is_read_whole(small_client: TestClient) -> None:
    encoded = padded_registration("chunky", LIMIT)

    def pieces() -> Iterator[bytes]:
        for start in range(0, len(encoded), 300):
            yield encoded[start : start + 300]

    response = small_client.post("/customers/register", content=pieces(), headers=JSON)
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert response.status_code == 201
    assert response.json()["username"] == "chunky"


def test_default_limit_is_one_mebibyte(client: TestClient) -> None:
    body = registration_body("mega", padding="x" * (1024 * 1024))
    response = client.post("/customers/register", json=body)
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body too large (limit 1048576 bytes)"}


# Malformed bodies


@pytest.mark.parametrize(
    "content",
    [b"{", b'{"name": }', b"not json at all", b'{"name": "A",}'],
)
def test_malformed_json_is_422(client: TestClient, content: bytes) -> None:
    response = client.post("/customers/register", content=content, headers=JSON)
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["type"] == "json_invalid"
    assert error["loc"][0] == "body"
    assert error["msg"].startswith("The request body is not valid JSON (")
    assert "\n" not in error["msg"]


def test_malformed_json_says_what_and_where_in_one_line(client: TestClient) -> None:
    response = client.post("/customers/register", content=b'{"name": }', headers=JSON)
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "type": "json_invalid",
            "loc": ["body", 9],
            "msg": "The request body is not valid JSON (Expecting value at character 9): "
            "check quotes, commas and braces",
            "input": {},
            "ctx": {"error": "Expecting value"},
        }
    ]


def test_a_json_body_without_content_type_says_to_send_one(client: TestClient) -> None:
    response = client.post("/customers/register", content=json_bytes(registration_body("no.type")))
    assert "content-type" not in response.request.headers
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "type": "model_attributes_type",
            "loc": ["body"],
            "msg": "The request has no Content-Type header: send a JSON object with the header "
            "Content-Type: application/json",
        }
    ]


def test_no_body_and_no_content_type_says_a_body_is_required(client: TestClient) -> None:
    response = client.post("/customers/register")
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert (error["loc"], error["type"]) == (["body"], "missing")
    assert error["msg"] == (
        "The request body is required: send a JSON object with the header "
        "Content-Type: application/json"
    )


@pytest.mark.parametrize("content", [b"\xff\xfe\x00", b'{"name": "\xc3\x28"}'])
def test_body_that_is_not_text_is_400(client: TestClient, content: bytes) -> None:
    response = client.post("/customers/register", content=content, headers=JSON)
    assert response.status_code == 400
    assert response.json() == {"detail": "There was an error parsing the body"}


@pytest.mark.parametrize("content", [b"[]", b'"a string"', b"42", b"null", b"true"])
def test_json_that_is_not_an_object_is_422(client: TestClient, content: bytes) -> None:
    response = client.post("/customers/register", content=content, headers=JSON)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body"]
    assert response.json()["detail"][0]["msg"].startswith("The request body must be a JSON object")


def test_empty_body_is_422(client: TestClient) -> None:
    response = client.post("/customers/register", content=b"", headers=JSON)
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "type": "missing",
            "loc": ["body"],
            "msg": "The request body is empty: send a JSON object with the header "
            "Content-Type: application/json",
            "input": None,
        }
    ]


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "multipart/form-data"])
def test_wrong_content_type_is_422(client: TestClient, content_type: str) -> None:
    response = client.post(
        "/customers/register",
        content=json_bytes(registration_body("wrong.type")),
        headers={"content-type": content_type},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body"]
    assert response.json()["detail"][0]["msg"] == (
        f"The request body was sent as {content_type!r}: send a JSON object with the header "
        "Content-Type: application/json"
    )


def test_form_body_for_a_json_route_is_422(client: TestClient) -> None:
    response = client.post("/customers/register", data=registration_body("form.user"))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body"]
    assert response.json()["detail"][0]["msg"].startswith(
        "The request body was sent as 'application/x-www-form-urlencoded': send a JSON object"
    )


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity"])
def test_non_finite_numbers_in_json_are_422_not_500(client: TestClient, literal: bytes) -> None:
    # Python's json module reads these; they cannot be echoed back as JSON.
    content = b'{"name": ' + literal + b', "dob": ' + literal + b"}"
    response = client.post("/customers/register", content=content, headers=JSON)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail[0]["loc"] == ["body", "name"]
    assert detail[0]["input"] == str(float(literal.decode()))


@pytest.mark.parametrize("field", ["name", "address", "id_document", "password", "username"])
def test_lone_surrogates_in_json_strings_are_422_not_500(client: TestClient, field: str) -> None:
    fields = registration_body("surrogate")
    fields[field] = "Ab\ud800cdefghijklmnop"
    body = json_bytes(fields)
    assert b"\\ud800" in body  # json.dumps escapes it: the request itself is valid UTF-8
    response = client.post("/customers/register", content=body, headers=JSON)
    assert response.status_code == 422
    error = response.json()["detail"][0]
    assert error["loc"] == ["body", field]
    if field == "password":  # a secret is never echoed
        assert "input" not in error
    else:
        assert error["input"] == "Ab?cdefghijklmnop"


def test_lone_surrogate_in_a_refresh_token_is_422(client: TestClient) -> None:
    response = client.post(
        "/auth/refresh", content=b'{"refresh_token": "\\udfffabc"}', headers=JSON
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "refresh_token"]


# Secrets are never echoed in validation errors


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Secret-1234", "String should have at least 12 characters"),
        ("Secret-" + "é" * 33, "Value error, password must be at most 72 bytes in UTF-8"),
    ],
)
def test_a_refused_password_is_not_echoed(client: TestClient, password: str, message: str) -> None:
    response = client.post("/customers/register", json=registration_body(password=password))
    assert response.status_code == 422
    assert "Secret" not in response.text
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "password"]
    assert error["msg"] == message
    assert "input" not in error


def test_a_body_echoed_for_a_missing_field_has_its_secrets_redacted(client: TestClient) -> None:
    body = {"name": "Al", "password": "correct-horse-Secret", "refresh_token": "tok-Secret"}
    response = client.post("/customers/register", json=body)
    assert response.status_code == 422
    assert "Secret" not in response.text
    missing = [e for e in response.json()["detail"] if e["type"] == "missing"]
    assert {tuple(e["loc"]) for e in missing} >= {("body", "dob"), ("body", "username")}
    for error in missing:  # the location, the message and the harmless fields stay
        assert error["msg"] == "Field required"
        assert error["input"] == {
            "name": "Al",
            "password": "[redacted]",
            "refresh_token": "[redacted]",
        }


@pytest.mark.parametrize(
    "body", [{"refresh_token": "tok-Secret-" + "x" * 4096}, {"refresh_token": 42}, "tok-Secret"]
)
def test_a_refused_refresh_token_is_not_echoed(client: TestClient, body: Any) -> None:
    for path in ("/auth/refresh", "/auth/logout"):
        response = client.post(path, json=body)
        assert response.status_code == 422
        assert "Secret" not in response.text
        assert all("input" not in error for error in response.json()["detail"])


def test_logon_form_fields_are_not_echoed(client: TestClient) -> None:
    form = {"username": "user-Secret", "password": "pass-Secret", "grant_type": "grant-Secret"}
    response = client.post("/auth/logon", data=form)
    assert response.status_code == 422
    assert "Secret" not in response.text
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "grant_type"]
    assert error["msg"] == "String should match pattern '^password$'"
    assert "input" not in error


def test_a_form_body_in_any_case_is_not_echoed(client: TestClient) -> None:
    response = client.post(
        "/auth/logon",
        content=b"username=u&password=pass-Secret&grant_type=grant-Secret",
        headers={"content-type": "Application/X-WWW-Form-URLEncoded"},
    )
    assert response.status_code == 422
    assert "Secret" not in response.text


def test_a_refused_idempotency_key_is_not_echoed(client: TestClient, customer: AuthedUser) -> None:
    key = "key-Secret-" + "k" * 250
    response = client.post(
        "/transfers", json={}, headers={**customer.headers, "Idempotency-Key": key}
    )
    assert response.status_code == 422
    assert "Secret" not in response.text
    errors = response.json()["detail"]
    assert ["header", "Idempotency-Key"] in [error["loc"] for error in errors]


def test_harmless_input_is_still_echoed(client: TestClient) -> None:
    response = client.post("/customers/register", json=registration_body("x"))
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert (error["loc"], error["input"]) == (["body", "username"], "x")


def test_unknown_route_is_404_json(client: TestClient) -> None:
    response = client.get("/no/such/route")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_wrong_method_is_405_json(client: TestClient) -> None:
    response = client.get("/customers/register")
    assert response.status_code == 405
    assert response.json() == {"detail": "Method Not Allowed"}


def test_odd_path_parameter_is_404_not_500(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    # Segments without the shape of an ISO code name no route.
    response = client.delete("/admin/countries/%ED%A0%80%00", headers=admin_headers)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}
    currency = client.delete("/admin/currencies/E%00R", headers=admin_headers)
    assert currency.status_code == 404
    assert currency.json() == {"detail": "Not Found"}


# No input produces a 500

FIELDS = ["name", "dob", "address", "country", "id_document", "username", "password"]
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()  # NaN and infinities included
    | st.text(max_size=30)
    | st.sampled_from(["", " ", "1990-05-17", "1890-01-01", "2999-12-31", "NL", "fr", "\ud800"])
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)
random_bodies = st.dictionaries(
    st.sampled_from(FIELDS) | st.text(max_size=8), json_values, max_size=8
)
almost_valid_bodies = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=3).map(
    lambda overrides: {**registration_body("hypo.user"), **overrides}
)


@hypothesis_settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=random_bodies | almost_valid_bodies | json_values)
def test_random_json_never_causes_a_server_error(client: TestClient, body: Any) -> None:
    content = json.dumps(body).encode()  # NaN stays NaN; lone surrogates are \u-escaped
    response = client.post("/customers/register", content=content, headers=JSON)
    assert response.status_code < 500, response.text
    assert response.headers["content-type"] == "application/json"
    if response.status_code >= 400:
        assert set(response.json()) == {"detail"}
    else:
        assert response.status_code == 201
        assert response.json()["message"] == "Registration successful"


@hypothesis_settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(username=st.text(max_size=30), password=st.text(max_size=80))
def test_random_logon_forms_never_cause_a_server_error(
    client: TestClient, customer: AuthedUser, username: str, password: str
) -> None:
    response = client.post("/auth/logon", data={"username": username, "password": password})
    assert response.status_code in {200, 401, 422}, response.text
    assert "detail" in response.json() or response.json()["message"] == "Logon successful"
