"""Schemathesis hooks: values for the formats the OpenAPI document names (`iban`, `iso4217`,
`iso3166-alpha2`), whose rules no JSON Schema pattern can express (an IBAN's checksum, a code
that ISO assigned and this bank supports).

Loaded by `schemathesis.toml` for the CLI and the fuzz test alike.
"""

from __future__ import annotations

from decimal import Decimal

import pycountry
import schemathesis
from hypothesis import strategies as st
from schwifty import IBAN

# The currencies a new bank supports (DEFAULT_CURRENCIES), the countries ISO assigns.
SUPPORTED_CURRENCIES = ["EUR", "USD", "GBP"]
COUNTRIES = sorted(country.alpha_2 for country in pycountry.countries)


def _iban(account: int) -> str:
    return str(IBAN.generate("DE", bank_code="37040044", account_code=str(account)).compact)


schemathesis.openapi.format("iban", st.integers(1, 10**10 - 1).map(_iban))
schemathesis.openapi.format("iso4217", st.sampled_from(SUPPORTED_CURRENCIES))
schemathesis.openapi.format("iso3166-alpha2", st.sampled_from(COUNTRIES))


# Rules of valid requests that JSON Schema cannot state (the descriptions in the document say
# them in words): an IBAN's checksum, a supported currency, two different currencies of an FX
# pair, an adult's date of birth, a name with something visible in it, a bcrypt-sized password,
# an amount in cents, a cursor the server issued. A schema-valid request the fuzzer makes
# ("positive" data) is brought within them, so that a refusal it still gets is a real finding;
# invalid ("negative") data is sent as generated.

PATH_FIXES = {
    "iban": lambda _value: _iban(1),
    "base": lambda _value: "EUR",
    "quote": lambda _value: "USD",
    "code": lambda value: value if value.upper() in SUPPORTED_CURRENCIES else "EUR",
    "currency": lambda value: value if value.upper() in SUPPORTED_CURRENCIES else "EUR",
    "iso_code": lambda value: value if value.upper() in COUNTRIES else "FR",
}


def _valid_iban(value: object) -> bool:
    try:
        IBAN(str(value))
    except Exception:
        return False
    return True


def _name_ok(value: object) -> bool:
    from app.core.text import _check_name

    try:
        _check_name(str(value))
    except ValueError:
        return False
    return True


def _decimal_ok(value: object, places: int, max_digits: int) -> bool:
    from decimal import InvalidOperation

    try:
        amount = Decimal(str(value))
        return (
            amount.is_finite()
            and Decimal(0) < amount < Decimal(10) ** (max_digits - places)
            and amount == amount.quantize(Decimal(1).scaleb(-places))
        )
    except InvalidOperation:
        return False


def _fix_body(body: dict[str, object], *, path: str = "") -> None:
    from datetime import date

    for field in ("from_iban", "to_iban", "iban"):
        if field in body and not _valid_iban(body[field]):
            body[field] = _iban(2 if field == "to_iban" else 1)
    if "to_iban" in body and body.get("from_iban") == body["to_iban"]:
        body["from_iban"], body["to_iban"] = _iban(1), _iban(2)
    for field in ("currency", "code"):
        if isinstance(body.get(field), str) and body[field].upper() not in SUPPORTED_CURRENCIES:
            body[field] = "EUR"
    for field in ("country", "iso_code"):
        if isinstance(body.get(field), str) and body[field].upper() not in COUNTRIES:
            body[field] = "NL"
    if "name" in body and not _name_ok(body["name"]) and "/snapshots" not in path:
        body["name"] = "Jane Doe"  # a person's, an API key's or a sandbox's name
    if "merchant" in body and not _name_ok(body["merchant"]):
        body["merchant"] = "Albert Heijn"
    for field in ("address", "id_document"):
        if isinstance(body.get(field), str) and len(body[field].strip()) < 2:
            body[field] = "NL1234567"
    if "dob" in body:
        try:
            born = date.fromisoformat(str(body["dob"]))
        except ValueError:
            born = None
        if born is None or born.year < 1900 or born > date(2000, 1, 1):
            body["dob"] = "1990-05-17"
    password = body.get("password")
    if isinstance(password, str) and len(password.encode()) > 72:
        body["password"] = "correct-horse-battery"
    if "amount" in body and not _decimal_ok(body["amount"], places=2, max_digits=15):
        body["amount"] = "25.00"
    if "rate" in body and not _decimal_ok(body["rate"], places=8, max_digits=20):
        body["rate"] = "1.085"
    # An interest rate is a percent a year: at most 100.
    percent = body.get("annual_percent")
    if "annual_percent" in body and (
        not _decimal_ok(percent, places=8, max_digits=20) or Decimal(str(percent)) > 100
    ):
        body["annual_percent"] = "1.5"
    # A new sandbox's size and lifetime stay within the test server's settings, and it is made
    # from the one template (each seed and size is a template built once, by living its customers'
    # year: the fuzz test builds it before the fuzzer starts).
    customers = body.get("customers")
    if isinstance(customers, int | float) and customers > 20:
        body["customers"] = 20
    if "seed" in body:
        body["seed"] = 42
    hours = body.get("ttl_hours")
    if isinstance(hours, int | float) and hours > 720:
        body["ttl_hours"] = 720
    days = body.get("expires_in_days")
    if isinstance(days, int | float) and days > 365:
        body["expires_in_days"] = 365
    # A scheduled transfer's date is later than the sandbox's today (which the fuzzer's own
    # advances move, never past 9000-01-01).
    if "execute_on" in body and body["execute_on"] is not None:
        body["execute_on"] = "9999-12-31"
    # A standing order starts no earlier than the sandbox's today and ends no earlier than that.
    if "start_on" in body:
        body["start_on"] = "9999-01-01"
        if body.get("end_on") is not None:
            body["end_on"] = "9999-12-31"
    # One advance of the sandbox's clock moves it at most 36,500 days, `to` before 9000.
    if path.endswith("/clock/advance"):
        if isinstance(body.get("days"), int) and isinstance(body.get("hours"), int):
            body["hours"] = min(int(body["hours"]), 24)
            body["days"] = min(int(body["days"]), 36_499)
        if isinstance(body.get("to"), str) and body["to"][:4] >= "8999":
            body["to"] = "2999-01-01T00:00:00Z"


@schemathesis.hook
def map_case(context: schemathesis.HookContext, case: schemathesis.Case) -> schemathesis.Case:
    parameters = case.path_parameters or {}
    base, quote = parameters.get("base"), parameters.get("quote")
    if isinstance(base, str) and isinstance(quote, str) and base.upper() == quote.upper():
        parameters["quote"] = "USD" if base.upper() != "USD" else "EUR"
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return case
    for name, fix in PATH_FIXES.items():
        value = (case.path_parameters or {}).get(name)
        if isinstance(value, str):
            case.path_parameters[name] = fix(value)
    if case.query:
        case.query.pop("before", None)  # a cursor is what a previous page returned
        currency = case.query.get("base_currency")
        if isinstance(currency, str) and currency.upper() not in SUPPORTED_CURRENCIES:
            case.query["base_currency"] = "EUR"
    if isinstance(case.body, dict):
        _fix_body(case.body, path=case.path)
    return case


@schemathesis.hook
def filter_path_parameters(context: schemathesis.HookContext, path_parameters: object) -> bool:
    """An FX pair is two different currencies (`/admin/fx-rates/EUR/EUR` is a 422)."""
    if not isinstance(path_parameters, dict):
        return True
    base, quote = path_parameters.get("base"), path_parameters.get("quote")
    return not (isinstance(base, str) and isinstance(quote, str) and base.upper() == quote.upper())


def _day(value: object) -> str | None:
    from datetime import date

    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10]).isoformat()
    except ValueError:
        return None


@schemathesis.hook
def filter_query(context: schemathesis.HookContext, query: object) -> bool:
    """A period runs forwards: `from` is not after `to` (else 422)."""
    if not isinstance(query, dict):
        return True
    start, end = _day(query.get("from")), _day(query.get("to"))
    return start is None or end is None or start < end
