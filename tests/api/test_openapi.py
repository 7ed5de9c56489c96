"""The OpenAPI document tells the truth: error statuses, path parameter shapes, 405 and OPTIONS."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.utils.auth import AuthedUser

ERROR_REF = {"$ref": "#/components/schemas/Error"}


def _operation(client: TestClient, method: str, path: str) -> dict:
    return client.get("/openapi.json").json()["paths"][path][method]


def test_a_route_documents_the_errors_of_what_it_depends_on(client: TestClient) -> None:
    responses = _operation(client, "post", "/admin/countries")["responses"]
    # 401 from the token, 403 from the admin gate, 400/413/422 from the body, 503 from the
    # database, 409 from the service (declared on the route).
    assert {"400", "401", "403", "409", "413", "422", "503"} <= set(responses)
    for code in ("401", "403", "422"):
        assert responses[code]["content"]["application/json"]["schema"] == ERROR_REF


def test_the_error_schema_is_a_message_or_a_list_of_issues(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    detail = schemas["Error"]["properties"]["detail"]["anyOf"]
    assert {"type": "string"} in detail
    assert "HTTPValidationError" not in schemas


def test_public_routes_document_no_auth_errors(client: TestClient) -> None:
    responses = _operation(client, "get", "/countries")["responses"]
    assert "401" not in responses
    assert "503" in responses


def test_every_tag_is_described_in_the_readers_order(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    described = [tag["name"] for tag in document["tags"]]
    assert described[:4] == ["health", "auth", "customers", "accounts"]
    assert all(tag["description"] for tag in document["tags"])
    used = {
        tag
        for operations in document["paths"].values()
        for op in operations.values()
        for tag in op.get("tags", [])
    }
    # The routers are included busiest first; the list keeps the order a reader expects,
    # and a new router cannot leave its tag out of it.
    assert used == set(described)


BOTH_WAYS = [{"OAuth2PasswordBearer": []}, {"APIKey": []}]


def test_each_operation_documents_the_credential_it_needs(client: TestClient) -> None:
    assert _operation(client, "get", "/accounts/overview")["security"] == BOTH_WAYS
    assert _operation(client, "get", "/auth/api-keys")["security"] == BOTH_WAYS
    assert _operation(client, "get", "/sandboxes")["security"] == BOTH_WAYS
    # Anyone may create a sandbox when self-service is on: a credential is optional, once.
    assert _operation(client, "post", "/sandboxes")["security"] == [{}, *BOTH_WAYS]
    assert "security" not in _operation(client, "get", "/countries")
    assert "security" not in _operation(client, "post", "/auth/logon")


def test_bearer_credentials_are_read_as_the_schemes_describe(
    client: TestClient, customer: AuthedUser
) -> None:
    token = customer.headers["Authorization"].removeprefix("Bearer ")
    for header in (f"bearer {token}", f"BEARER  {token} "):
        response = client.get("/accounts/overview", headers={"Authorization": header})
        assert response.status_code == 200, header
    for header in (token, f"Basic {token}", "Bearer ", "Bearer"):
        response = client.get("/accounts/overview", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_path_parameters_carry_their_shapes(client: TestClient) -> None:
    def schema(method: str, path: str, name: str) -> dict:
        parameters = _operation(client, method, path)["parameters"]
        return next(p for p in parameters if p["name"] == name)["schema"]

    assert schema("get", "/accounts/{iban}", "iban")["format"] == "iban"
    assert schema("delete", "/admin/currencies/{code}", "code")["pattern"] == "^[A-Za-z]{3}$"
    assert schema("get", "/user-portfolio/{customer_oid}", "customer_oid")["format"] == "uuid"
    transfer_id = schema("get", "/transfers/{transfer_id}", "transfer_id")
    assert (transfer_id["type"], transfer_id["minimum"], transfer_id["maximum"]) == (
        "integer",
        1,
        2**63 - 1,
    )


def test_a_route_typo_is_404_not_an_invalid_iban(client: TestClient, customer: AuthedUser) -> None:
    response = client.get("/accounts/overveiw", headers=customer.headers)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_an_iban_shaped_segment_still_reaches_the_account_routes(
    client: TestClient, customer: AuthedUser
) -> None:
    assert client.get(f"/accounts/{customer.iban}", headers=customer.headers).status_code == 200
    bad_checksum = client.get("/accounts/NL00NOTANIBAN", headers=customer.headers)
    assert bad_checksum.status_code == 400
    assert bad_checksum.json()["detail"].startswith("Invalid IBAN: ")


@pytest.mark.parametrize("malformed", ["abc", "0", "-1", "1.5", str(2**63)])
def test_a_malformed_transfer_id_is_400(
    client: TestClient, customer: AuthedUser, malformed: str
) -> None:
    response = client.get(f"/transfers/{malformed}", headers=customer.headers)
    assert response.status_code == 400
    assert response.json() == {"detail": "Malformed transfer id"}


def test_the_largest_transfer_id_is_well_formed(client: TestClient, customer: AuthedUser) -> None:
    response = client.get(f"/transfers/{2**63 - 1}", headers=customer.headers)
    assert response.status_code == 404


def test_405_lists_every_method_of_the_path(client: TestClient, customer: AuthedUser) -> None:
    # `/transfers` is served by two routes (GET and POST); Starlette alone named only one.
    response = client.delete("/transfers", headers=customer.headers)
    assert response.status_code == 405
    assert response.json() == {"detail": "Method Not Allowed"}
    assert response.headers["allow"] == "GET, POST"


def test_options_answers_204_with_every_method(client: TestClient) -> None:
    response = client.options("/admin/fx-rates/EUR/USD")
    assert response.status_code == 204
    assert response.headers["allow"] == "DELETE, GET, PUT"
    assert response.content == b""


def test_options_on_an_unknown_path_is_404(client: TestClient) -> None:
    assert client.options("/no/such/path").status_code == 404


def test_a_period_date_is_written_yyyy_mm_dd(client: TestClient, customer: AuthedUser) -> None:
    path = f"/user-portfolio/{customer.customer_oid}/transactions"
    assert client.get(path, params={"to": "0"}, headers=customer.headers).status_code == 422
    ok = client.get(path, params={"to": "2026-03-31"}, headers=customer.headers)
    assert ok.status_code == 200


def test_an_id_beyond_the_stored_range_is_404_on_every_database(
    client: TestClient, customer: AuthedUser
) -> None:
    # Ids are 64-bit in the document; the columns hold 32 bits on PostgreSQL.
    transfer = client.get(f"/transfers/{2**31}", headers=customer.headers)
    assert transfer.status_code == 404
    key = client.delete(f"/auth/api-keys/{2**63 - 2}", headers=customer.headers)
    assert key.status_code == 404
