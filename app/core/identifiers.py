"""The shapes of the identifiers in paths, one definition each, used both to route or validate
a request and to document the parameter in the OpenAPI schema.

IBANs and ISO codes are matched by the router (Starlette path convertors): a segment without
their shape, such as `/accounts/overveiw`, names no route and answers 404, not "Invalid IBAN".
CustomerOIDs (the portfolio-analysis API's identifiers) and numeric ids are parsed by a
dependency instead, so a malformed one answers 400 as those contracts say.
"""

from __future__ import annotations

import re

from starlette.convertors import Convertor, register_url_convertor

# An IBAN as a client may write it in a path: the country code, the two check digits, then
# letters, digits and the spaces of the printed form, any case. Whether it is a real IBAN (its
# length for the country, its checksum) is checked after routing: 400 "Invalid IBAN".
IBAN_PATH_REGEX = "[A-Za-z]{2}[0-9]{2}[A-Za-z0-9 ]{1,60}"
IBAN_PATH_PATTERN = f"^{IBAN_PATH_REGEX}$"
# ISO 4217 currency and ISO 3166-1 alpha-2 country codes, any case.
CURRENCY_REGEX = "[A-Za-z]{3}"
CURRENCY_PATTERN = f"^{CURRENCY_REGEX}$"
COUNTRY_REGEX = "[A-Za-z]{2}"
COUNTRY_PATTERN = f"^{COUNTRY_REGEX}$"
# A UUID in its canonical 8-4-4-4-12 hexadecimal form, any case.
UUID_PATTERN = "^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"
CANONICAL_UUID = re.compile(UUID_PATTERN[1:-1])
# Row ids: positive 64-bit integers, written as ASCII digits.
ID_MIN = 1
ID_MAX = 2**63 - 1
# The largest id a row has: id columns are INTEGER, 32 bits on PostgreSQL. A well-formed id
# above it names no row (404); it is not sent to the database, which would refuse it.
STORED_ID_MAX = 2**31 - 1


def parse_id(text: str) -> int | None:
    """`text` as a row id (ASCII digits, 1 to 2^63-1), or None."""
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    value = int(text)
    return value if ID_MIN <= value <= ID_MAX else None


class _TextConvertor(Convertor[str]):
    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


class IbanConvertor(_TextConvertor):
    regex = IBAN_PATH_REGEX


class CurrencyConvertor(_TextConvertor):
    regex = CURRENCY_REGEX


class CountryConvertor(_TextConvertor):
    regex = COUNTRY_REGEX


# Route paths name these as `{iban:iban}`, `{code:currency}`, `{iso_code:country}`.
register_url_convertor("iban", IbanConvertor())
register_url_convertor("currency", CurrencyConvertor())
register_url_convertor("country", CountryConvertor())


# The same shapes for fields of request bodies and queries, for the schema only (`format` names
# the check that no pattern can express: a real IBAN, an ISO code). Their validators answer 422.
IBAN_SCHEMA = {"format": "iban", "pattern": IBAN_PATH_PATTERN}
CURRENCY_SCHEMA = {"format": "iso4217", "pattern": CURRENCY_PATTERN}
COUNTRY_SCHEMA = {"format": "iso3166-alpha2", "pattern": COUNTRY_PATTERN}
UUID_SCHEMA = {"format": "uuid", "pattern": UUID_PATTERN}
