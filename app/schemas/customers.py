"""A page of the customer directory with the number of customers that match."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.models.customer import CustomerListItem


class CustomerList(BaseModel):
    customers: list[CustomerListItem]
    total: int = Field(description="How many customers match, on all pages")
    limit: int
    offset: int
