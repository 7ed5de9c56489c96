import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from app.models.customer import CustomerPublic, CustomerRegister
from tests.utils.auth import registration_body


def public(id_document: str | None) -> CustomerPublic:
    return CustomerPublic(
        customer_oid=uuid.uuid4(),
        name="Alice Example",
        id_document=id_document,
        created_at=datetime.now(UTC),
    )


@pytest.mark.parametrize(
    ("document", "masked"),
    [
        ("NL1234567", "*****567"),
        ("X12345678901234567890", "*****890"),
        ("ABCD", "*****BCD"),
        ("ABC", "*****"),
        ("A", "*****"),
        (None, None),
    ],
)
def test_id_document_is_masked_with_five_stars(document: str | None, masked: str | None) -> None:
    assert public(document).id_document == masked


def test_registration_strips_and_uppercases() -> None:
    data = CustomerRegister(
        **registration_body("jane", name="  Jane Doe ", country="nl", id_document=" NL1234567 ")
    )
    assert (data.name, data.country, data.id_document) == ("Jane Doe", "NL", "NL1234567")


def test_registration_ignores_unknown_fields() -> None:
    data = CustomerRegister(**registration_body("jane", role="admin", balance="1000"))
    assert not hasattr(data, "role")
    assert not hasattr(data, "balance")


def test_registration_schema_documents_the_username_pattern() -> None:
    schema = CustomerRegister.model_json_schema()["properties"]["username"]
    assert schema["pattern"] == "^[A-Za-z0-9._-]{3,20}$"


@pytest.mark.parametrize("name", ["  ", " x ", "\t\n"])
def test_blank_names_are_refused(name: str) -> None:
    with pytest.raises(ValidationError, match=r"visible character|at least 2 characters"):
        CustomerRegister(**registration_body("jane", name=name))
