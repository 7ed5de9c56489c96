"""The customer directory of the portfolio-analysis API: list, register by name, check, delete.

Unlike the source document these are gated by role: listing and checking need an analyst or an
admin, registering and deleting an admin.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Response, status

from app.api.deps import AdminUser, AnalystUser, CustomerOidPath, SessionDep
from app.api.routing import api_router
from app.core.pagination import MAX_OFFSET
from app.core.text import NO_NUL_PATTERN
from app.models.customer import (
    CustomerCreate,
    CustomerCreated,
    CustomerDeleted,
    CustomerExists,
    CustomerListItem,
)
from app.schemas.errors import error_responses
from app.services import customers

MAX_PAGE = 1000

router = api_router(tags=["customer directory"])


@router.get(
    "/customers",
    summary="List customers by name (paginated; X-Total-Count has the number that match)",
    responses=error_responses(401, 403, 422),
)
def list_customers(
    _user: AnalystUser,
    session: SessionDep,
    response: Response,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    name: Annotated[
        str | None,
        Query(max_length=100, pattern=NO_NUL_PATTERN, description="Part of the name, any case"),
    ] = None,
) -> list[CustomerListItem]:
    page = customers.list_customers(session=session, limit=limit, offset=offset, name=name)
    response.headers["X-Total-Count"] = str(page.total)
    return [CustomerListItem(customer_oid=c.id, name=c.name) for c in page.items]


@router.post(
    "/register-customer",
    status_code=status.HTTP_201_CREATED,
    summary="Register a customer by name (no login); the CustomerOID is generated when absent",
    responses=error_responses(400, 401, 403, 409, 422),
)
def register_customer(
    _user: AdminUser, body: CustomerCreate, session: SessionDep
) -> CustomerCreated:
    customer = customers.create(session=session, name=body.name, customer_oid=body.customer_oid)
    return CustomerCreated(customer_oid=customer.id, name=customer.name)


@router.delete(
    "/customer/{customer_oid}",
    summary="Delete a customer and everything it owns, in one unit of work",
    responses=error_responses(400, 401, 403, 404),
)
def delete_customer(
    _user: AdminUser, customer_id: CustomerOidPath, session: SessionDep
) -> CustomerDeleted:
    customers.delete(session=session, customer_id=customer_id)
    return CustomerDeleted(customer_oid=customer_id)


@router.get(
    "/customer/{customer_oid}/exists",
    summary="Whether a CustomerOID exists, and its name",
    responses=error_responses(400, 401, 403),
)
def customer_exists(
    _user: AnalystUser, customer_id: CustomerOidPath, session: SessionDep
) -> CustomerExists:
    return customers.check_exists(session=session, customer_id=customer_id)
