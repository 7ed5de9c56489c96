import pytest
from sqlmodel import Session

from app.errors import ValidationFailed
from app.services import reference


@pytest.mark.parametrize(
    ("code", "expected"),
    [("NL", ("NL", "Netherlands")), ("fr", ("FR", "France")), (" de ", ("DE", "Germany"))],
)
def test_iso_country(code: str, expected: tuple[str, str]) -> None:
    assert reference.iso_country(code) == expected


@pytest.mark.parametrize("code", ["XX", "NLD", "N", "", "12"])
def test_iso_country_refuses_non_codes(code: str) -> None:
    with pytest.raises(ValidationFailed, match="ISO 3166-1 alpha-2"):
        reference.iso_country(code)


@pytest.mark.parametrize(
    ("code", "expected"),
    [("EUR", ("EUR", "Euro")), ("chf", ("CHF", "Swiss Franc")), ("usd ", ("USD", "US Dollar"))],
)
def test_iso_currency(code: str, expected: tuple[str, str]) -> None:
    assert reference.iso_currency(code) == expected


@pytest.mark.parametrize("code", ["ZZZ", "EURO", "EU", ""])
def test_iso_currency_refuses_non_codes(code: str) -> None:
    with pytest.raises(ValidationFailed, match="ISO 4217"):
        reference.iso_currency(code)


def test_lookups_ignore_case(session: Session) -> None:
    assert reference.is_country_allowed(session=session, iso_code="nl")
    assert not reference.is_country_allowed(session=session, iso_code="fr")
    assert reference.is_currency_supported(session=session, code="usd")
    assert not reference.is_currency_supported(session=session, code="chf")


def test_ensure_defaults_only_fills_empty_tables(session: Session) -> None:
    reference.delete_country(session=session, iso_code="DE")
    reference.ensure_defaults(session=session, countries=["FR"], currencies=["CHF"])
    assert [c.iso_code for c in reference.list_countries(session=session)] == ["BE", "NL"]
    assert [c.code for c in reference.list_currencies(session=session)] == ["EUR", "GBP", "USD"]


def test_ensure_defaults_fills_empty_tables(session: Session) -> None:
    for code in ("BE", "DE", "NL"):
        reference.delete_country(session=session, iso_code=code)
    for code in ("EUR", "GBP", "USD"):
        reference.delete_currency(session=session, code=code)
    reference.ensure_defaults(session=session, countries=["fr", "IT"], currencies=["chf"])
    assert [(c.iso_code, c.name) for c in reference.list_countries(session=session)] == [
        ("FR", "France"),
        ("IT", "Italy"),
    ]
    assert [(c.code, c.name) for c in reference.list_currencies(session=session)] == [
        ("CHF", "Swiss Franc")
    ]


def test_ensure_defaults_refuses_a_bad_default(session: Session) -> None:
    for code in ("BE", "DE", "NL"):
        reference.delete_country(session=session, iso_code=code)
    with pytest.raises(ValidationFailed):
        reference.ensure_defaults(session=session, countries=["NL", "XX"], currencies=[])
    assert reference.list_countries(session=session) == []  # nothing half-inserted
