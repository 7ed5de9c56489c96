from fastapi.testclient import TestClient

from tests.utils.auth import AuthedUser


def test_health_reports_connected_database(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "service": "openbank-api",
        "version": "0.1.0",
        "database": "connected",
        "sandboxes": 0,
    }


def test_registered_customer_sees_first_account(client: TestClient, customer: AuthedUser) -> None:
    response = client.get("/accounts/overview", headers=customer.headers)
    assert response.status_code == 200
    accounts = response.json()["accounts"]
    assert [(a["iban"], a["account_type"], a["balance"], a["currency"]) for a in accounts] == [
        (customer.iban, "checking", "0.00", "EUR")
    ]
