from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import field_validator
from sqlmodel import Field, SQLModel

from app.core.clock import UTCDateTime, utcnow
from app.core.identifiers import UUID_SCHEMA
from app.core.passwords import PASSWORD_RULE, Password
from app.core.text import NO_NUL_PATTERN, Name
from app.models.account import AccountPublic


class CustomerBase(SQLModel):
    name: str = Field(min_length=2, max_length=100)


class Customer(CustomerBase, table=True):
    """A customer. KYC fields are empty for customers made by `POST /register-customer`."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    date_of_birth: date | None = None
    address: str | None = Field(default=None, max_length=200)
    country: str | None = Field(default=None, max_length=2)
    id_document: str | None = Field(default=None, max_length=50)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


USERNAME_PATTERN = r"^[A-Za-z0-9._-]{3,20}$"
# Well-formed country code: two ASCII letters. Whether it is allowed is the service's rule.
COUNTRY_PATTERN = r"^[A-Za-z]{2}$"


class CustomerRegister(CustomerBase):
    """What `POST /customers/register` takes. Unknown fields (a role, a balance) are ignored."""

    name: Name = Field(schema_extra={"examples": ["Jane Doe"]})
    dob: date = Field(
        description="Date of birth; the customer must be 18 or older",
        schema_extra={"examples": ["1990-05-17"]},
    )
    address: str = Field(
        min_length=5,
        max_length=200,
        schema_extra={"pattern": NO_NUL_PATTERN, "examples": ["Damrak 1, 1012 LG Amsterdam"]},
    )
    country: str = Field(
        min_length=2,
        max_length=2,
        description="ISO 3166-1 alpha-2, two letters in any case; a code that is not on the "
        "allowed list (unknown codes included) is refused with 403",
        schema_extra={"pattern": COUNTRY_PATTERN, "format": "iso3166-alpha2", "examples": ["NL"]},
    )
    id_document: str = Field(
        min_length=5,
        max_length=50,
        description="ID document number",
        schema_extra={"pattern": NO_NUL_PATTERN, "examples": ["NL1234567"]},
    )
    username: str = Field(
        description="3-20 of A-Z a-z 0-9 . _ - (unique, ignoring case)",
        # Not `regex=`: SQLModel passes it to Pydantic 2, which silently ignores it. `pattern`
        # (through schema_extra) is enforced and shows in the OpenAPI schema.
        schema_extra={"pattern": USERNAME_PATTERN, "examples": ["jane.doe"]},
    )
    password: Password | None = Field(
        default=None,
        description=f"{PASSWORD_RULE}; generated and returned once when absent",
    )

    @field_validator("address", "id_document")
    @classmethod
    def _strip(cls, value: str) -> str:
        stripped = value.strip()
        if len(stripped) < 2:
            raise ValueError("must not be blank")
        return stripped

    @field_validator("country")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()


class CustomerRegistered(SQLModel):
    message: str = "Registration successful"
    customer_oid: uuid.UUID
    username: str
    password: str | None = Field(
        default=None,
        description="The generated password when none was sent: shown only this once, store it "
        "now. null when you chose your own (it is never echoed).",
    )
    account: AccountPublic


class CustomerPublic(CustomerBase):
    """The customer's own profile: the ID document is masked."""

    customer_oid: uuid.UUID
    username: str | None = None
    date_of_birth: date | None = None
    address: str | None = None
    country: str | None = None
    id_document: str | None = None
    created_at: datetime

    @field_validator("id_document")
    @classmethod
    def _mask(cls, value: str | None) -> str | None:
        if value is None:
            return None
        # Five stars whatever the length, so the mask does not reveal it either.
        return "*****" + (value[-3:] if len(value) > 3 else "")


class CustomerCreate(CustomerBase):
    """What `POST /register-customer` takes: a name and, optionally, the id."""

    name: Name = Field(schema_extra={"examples": ["New Customer"]})
    customer_oid: str | None = Field(
        default=None,
        max_length=64,
        description="A UUID such as 550e8400-e29b-41d4-a716-446655440000; generated when absent",
        schema_extra={"json_schema_extra": UUID_SCHEMA},
    )


class CustomerListItem(CustomerBase):
    customer_oid: uuid.UUID


class CustomerCreated(CustomerBase):
    customer_oid: uuid.UUID
    message: str = "Customer registered successfully"


class CustomerDeleted(SQLModel):
    customer_oid: uuid.UUID
    message: str = "Customer and all associated data deleted successfully"


class CustomerExists(SQLModel):
    customer_oid: uuid.UUID
    exists: bool
    name: str | None
