"""Account detail and statements: who may read them, keyset pages, period filters, CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col

from app.core.db import new_session, write_transaction
from app.models.posting import Posting
from app.services import statements
from tests.utils.auth import AuthedUser
from tests.utils.money import deposit, transfer_body

OTHER_BANK_IBAN = "NL91ABNA0417164300"


@pytest.fixture
def history(
    client: TestClient,
    customer: AuthedUser,
    other_customer: AuthedUser,
    admin_headers: dict[str, str],
) -> AuthedUser:
    """Alice: a deposit of 100.00, a transfer out of 30.00 to Bob, one in of 5.00 from Bob."""
    deposit(client, admin_headers, customer.iban, "100.00", "Opening")
    deposit(client, admin_headers, other_customer.iban, "10.00")
    for sender, recipient, amount in (
        (customer, other_customer, "30.00"),
        (other_customer, customer, "5.00"),
    ):
        response = client.post(
            "/transfers",
            json=transfer_body(sender.iban, recipient.iban, amount, description=f"{amount} back"),
            headers=sender.headers,
        )
        assert response.status_code == 201
    return customer


def lines(client: TestClient, headers: dict[str, str], iban: str, **params: Any) -> dict[str, Any]:
    response = client.get(f"/accounts/{iban}/transactions", params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_account_detail_for_the_owner(client: TestClient, history: AuthedUser) -> None:
    response = client.get(f"/accounts/{history.iban}", headers=history.headers)
    assert response.status_code == 200
    assert response.json() == {
        "account_type": "checking",
        "currency": "EUR",
        "iban": history.iban,
        "balance": "75.00",
        "available_balance": "75.00",
        "created_at": response.json()["created_at"],
        "customer_oid": history.customer_oid,
        "holder_name": "Alice Example",
    }


def test_staff_may_read_any_account(
    client: TestClient,
    history: AuthedUser,
    analyst_headers: dict[str, str],
    admin_headers: dict[str, str],
) -> None:
    for headers in (analyst_headers, admin_headers):
        detail = client.get(f"/accounts/{history.iban}", headers=headers)
        statement = client.get(f"/accounts/{history.iban}/transactions", headers=headers)
        assert detail.status_code == statement.status_code == 200
        assert detail.json()["balance"] == "75.00"
        assert len(statement.json()["items"]) == 3


def test_other_customers_get_404_like_for_an_unknown_account(
    client: TestClient, history: AuthedUser, other_customer: AuthedUser
) -> None:
    for path in (f"/accounts/{history.iban}", f"/accounts/{history.iban}/transactions"):
        response = client.get(path, headers=other_customer.headers)
        assert response.status_code == 404
        assert response.json() == {"detail": f"Account {history.iban} not found"}
    unknown = client.get(f"/accounts/{OTHER_BANK_IBAN}", headers=other_customer.headers)
    assert unknown.status_code == 404
    assert unknown.json() == {"detail": f"Account {OTHER_BANK_IBAN} not found"}


def test_account_routes_need_a_token_and_a_valid_iban(
    client: TestClient, history: AuthedUser
) -> None:
    assert client.get(f"/accounts/{history.iban}").status_code == 401
    assert client.get(f"/accounts/{history.iban}/transactions").status_code == 401
    malformed = client.get("/accounts/NL00NOTANIBAN/transactions", headers=history.headers)
    assert malformed.status_code == 400
    assert malformed.json()["detail"].startswith("Invalid IBAN: ")


def test_static_account_routes_are_not_taken_for_ibans(
    client: TestClient, customer: AuthedUser
) -> None:
    overview = client.get("/accounts/overview", headers=customer.headers)
    assert overview.status_code == 200
    assert overview.json()["accounts"][0]["iban"] == customer.iban
    opened = client.post(
        "/accounts/open",
        json={"account_type": "saving", "currency": "EUR"},
        headers=customer.headers,
    )
    assert opened.status_code == 201


def test_statement_lines_newest_first(client: TestClient, history: AuthedUser) -> None:
    body = lines(client, history.headers, history.iban)

    items = body["items"]
    assert body["next_before"] is None
    assert [(i["kind"], i["amount"], i["balance_after"]) for i in items] == [
        ("transfer", "5.00", "75.00"),
        ("transfer", "-30.00", "70.00"),
        ("deposit", "100.00", "100.00"),
    ]
    assert items[2]["counterparty_name"] == "OpenBank sandbox funding"
    assert items[2]["counterparty_iban"] is None
    assert items[2]["description"] == "Opening"
    assert items[0]["counterparty_name"] == "Bob Builder"
    assert items[0]["description"] == "5.00 back"
    assert all(i["currency"] == "EUR" for i in items)
    assert set(items[0]) == {
        "id",
        "entry_id",
        "kind",
        "created_at",
        "amount",
        "currency",
        "balance_after",
        "counterparty_iban",
        "counterparty_name",
        "description",
    }


def test_keyset_pages_cover_everything_once(
    client: TestClient, history: AuthedUser, admin_headers: dict[str, str]
) -> None:
    for _ in range(4):
        deposit(client, admin_headers, history.iban, "1.00")
    everything = [i["id"] for i in lines(client, history.headers, history.iban)["items"]]

    seen: list[int] = []
    params: dict[str, Any] = {"limit": 3}
    while True:
        page = lines(client, history.headers, history.iban, **params)
        assert len(page["items"]) <= 3
        seen += [i["id"] for i in page["items"]]
        if page["next_before"] is None:
            break
        params["before"] = page["next_before"]

    assert len(everything) == 7
    assert seen == everything


def test_paging_errors(client: TestClient, history: AuthedUser) -> None:
    url = f"/accounts/{history.iban}/transactions"
    for cursor in ("garbage", "bm8tc2VwYXJhdG9y", "MjAyNi0wMS0wMXx4"):  # junk, no '|', bad id
        response = client.get(url, params={"before": cursor}, headers=history.headers)
        assert response.status_code == 400
        assert response.json() == {"detail": "Malformed pagination cursor"}
    naive = "MjAyNi0wMS0wMVQwMDowMDowMHwx"  # "2026-01-01T00:00:00|1": no time zone
    assert client.get(url, params={"before": naive}, headers=history.headers).status_code == 400
    assert client.get(url, params={"limit": 0}, headers=history.headers).status_code == 422
    assert client.get(url, params={"limit": 201}, headers=history.headers).status_code == 422


def _date_postings(engine: Engine, iban_lines: list[dict[str, Any]], days: list[str]) -> None:
    with new_session(engine) as session, write_transaction(session):
        for line, day in zip(iban_lines, days, strict=True):
            session.execute(
                update(Posting)
                .where(col(Posting.id) == line["id"])
                .values(created_at=datetime.fromisoformat(day).replace(tzinfo=UTC))
            )


def test_from_and_to_filters(client: TestClient, engine: Engine, history: AuthedUser) -> None:
    items = lines(client, history.headers, history.iban)["items"]
    _date_postings(
        engine, items, ["2026-03-10T12:00:00", "2026-02-10T12:00:00", "2026-01-10T00:00:00"]
    )

    def amounts(**params: Any) -> list[str]:
        return [
            i["amount"] for i in lines(client, history.headers, history.iban, **params)["items"]
        ]

    assert amounts() == ["5.00", "-30.00", "100.00"]
    assert amounts(**{"from": "2026-02-01"}) == ["5.00", "-30.00"]
    assert amounts(to="2026-02-10") == ["-30.00", "100.00"]  # a date 'to' includes that day
    assert amounts(**{"from": "2026-02-01", "to": "2026-02-28"}) == ["-30.00"]
    assert amounts(**{"from": "2026-02-10T12:00:00Z", "to": "2026-02-10T12:00:00Z"}) == ["-30.00"]
    assert amounts(to="2026-02-10T11:59:59") == ["100.00"]  # no zone: UTC
    assert amounts(**{"from": "2026-02-10T13:00:00+01:00"}) == ["5.00", "-30.00"]
    assert amounts(**{"from": "2027-01-01"}) == []
    # Midnight as a date-time is that instant, not the whole day.
    assert amounts(to="2026-02-10T00:00:00Z") == ["100.00"]
    assert amounts(to="2026-01-10T00:00:00Z") == ["100.00"]
    assert amounts(to="2026-01-09T23:59:59.999999Z") == []


def test_bad_period_is_422(client: TestClient, history: AuthedUser) -> None:
    url = f"/accounts/{history.iban}/transactions"
    reversed_period = client.get(
        url, params={"from": "2026-02-01", "to": "2026-01-31"}, headers=history.headers
    )
    assert reversed_period.status_code == 422
    assert reversed_period.json() == {"detail": "'from' must not be after 'to'"}
    for bad in ("yesterday", "2026-13-01", "2026-02-30T00:00:00", "2026-02-01T25:00"):
        not_a_date = client.get(url, params={"from": bad}, headers=history.headers)
        assert not_a_date.status_code == 422
        assert not_a_date.json() == {
            "detail": "'from' must be a date (2026-03-01) or a date and time (2026-03-01T12:00:00Z)"
        }


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_has_the_same_lines_as_json(client: TestClient, history: AuthedUser) -> None:
    as_json = lines(client, history.headers, history.iban)["items"]

    response = client.get(
        f"/accounts/{history.iban}/transactions", params={"format": "csv"}, headers=history.headers
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert (
        response.headers["content-disposition"]
        == f'attachment; filename="{history.iban}-transactions.csv"'
    )
    assert response.text.splitlines()[0] == (
        "id,entry_id,kind,created_at,amount,currency,balance_after,"
        "counterparty_iban,counterparty_name,description"
    )
    expected = [
        {key: "" if value is None else str(value) for key, value in line.items()}
        for line in as_json
    ]
    assert _csv(response.text) == expected


def test_accept_header_selects_csv(client: TestClient, history: AuthedUser) -> None:
    url = f"/accounts/{history.iban}/transactions"
    by_accept = client.get(url, headers=history.headers | {"Accept": "text/csv"})
    assert by_accept.headers["content-type"].startswith("text/csv")
    assert len(_csv(by_accept.text)) == 3
    explicit_json = client.get(
        url, params={"format": "json"}, headers=history.headers | {"Accept": "text/csv"}
    )
    assert explicit_json.headers["content-type"] == "application/json"
    assert client.get(url, params={"format": "xml"}, headers=history.headers).status_code == 422


def test_csv_streams_every_line_in_batches_with_filters(
    client: TestClient,
    history: AuthedUser,
    admin_headers: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(statements, "CSV_BATCH", 2)
    for index in range(4):
        deposit(client, admin_headers, history.iban, f"{index + 1}.00", f"batch {index}")
    url = f"/accounts/{history.iban}/transactions"

    everything = _csv(
        client.get(url, params={"format": "csv", "limit": 1}, headers=history.headers).text
    )
    page = lines(client, history.headers, history.iban, limit=2)
    older = _csv(
        client.get(
            url, params={"format": "csv", "before": page["next_before"]}, headers=history.headers
        ).text
    )
    future = _csv(
        client.get(
            url, params={"format": "csv", "from": "2999-01-01"}, headers=history.headers
        ).text
    )

    assert len(everything) == 7  # 'limit' does not apply to CSV
    assert [row["amount"] for row in everything[:4]] == ["4.00", "3.00", "2.00", "1.00"]
    assert [row["id"] for row in older] == [row["id"] for row in everything[2:]]
    assert future == []


def test_csv_errors_are_json(
    client: TestClient, history: AuthedUser, other_customer: AuthedUser
) -> None:
    url = f"/accounts/{history.iban}/transactions"
    bad_cursor = client.get(url, params={"format": "csv", "before": "x"}, headers=history.headers)
    not_yours = client.get(url, params={"format": "csv"}, headers=other_customer.headers)
    assert bad_cursor.status_code == 400
    assert bad_cursor.json() == {"detail": "Malformed pagination cursor"}
    assert not_yours.status_code == 404


def test_csv_neutralises_spreadsheet_formulas(
    client: TestClient, customer: AuthedUser, admin_headers: dict[str, str]
) -> None:
    deposit(client, admin_headers, customer.iban, "1.00", '=HYPERLINK("http://evil","x")')
    response = client.get(
        f"/accounts/{customer.iban}/transactions",
        params={"format": "csv"},
        headers=customer.headers,
    )
    (row,) = _csv(response.text)
    assert row["description"] == '\'=HYPERLINK("http://evil","x")'
    assert row["amount"] == "1.00"
    json_line = lines(client, customer.headers, customer.iban)["items"][0]
    assert json_line["description"] == '=HYPERLINK("http://evil","x")'


def test_a_new_account_has_an_empty_statement(client: TestClient, customer: AuthedUser) -> None:
    assert lines(client, customer.headers, customer.iban) == {
        "items": [],
        "next_before": None,
        "balance": "0.00",
        "available_balance": "0.00",
        "pending": [],
    }
    response = client.get(
        f"/accounts/{customer.iban}/transactions",
        params={"format": "csv"},
        headers=customer.headers,
    )
    assert response.text.count("\n") == 1  # only the header


def test_extreme_periods_and_cursors(client: TestClient, history: AuthedUser) -> None:
    url = f"/accounts/{history.iban}/transactions"

    def get(**params: str) -> Any:
        return client.get(url, params=params, headers=history.headers)

    assert len(get(to="9999-12-31").json()["items"]) == 3  # the end of time: no upper bound
    assert len(get(to="9999-12-31T23:59:59.999999").json()["items"]) == 3
    assert len(get(**{"from": "0001-01-01"}).json()["items"]) == 3
    # Bounds that fall outside the calendar in UTC: no bound, or nothing when they exclude all.
    assert len(get(**{"from": "0001-01-01T00:00:00+01:00"}).json()["items"]) == 3
    assert len(get(to="9999-12-31T23:00:00-05:00").json()["items"]) == 3
    assert get(**{"from": "9999-12-31T23:00:00-05:00"}).json()["items"] == []
    assert get(to="0001-01-01T00:00:00+01:00").json()["items"] == []
    assert get(**{"from": "9999-12-31", "to": "9999-12-31"}).json()["items"] == []
    huge_id = "MjAyNi0wMS0wMVQwMDowMDowMCswMDowMHw5OTk5OTk5OTk5OTk5OTk5OTk5OTk5"
    assert get(before=huge_id).status_code == 400
