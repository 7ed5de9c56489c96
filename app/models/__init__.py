"""Tables and their API model families, one module per entity.

Importing this package registers every table on `SQLModel.metadata`.
"""

from app.models.account import Account
from app.models.country import AllowedCountry
from app.models.currency import Currency
from app.models.customer import Customer
from app.models.funding_account import FundingAccount
from app.models.idempotency_key import IdempotencyKey
from app.models.institution import Institution
from app.models.journal_entry import JournalEntry
from app.models.posting import Posting
from app.models.refresh_token import RefreshToken
from app.models.transfer import Transfer
from app.models.user import User

__all__ = [
    "Account",
    "AllowedCountry",
    "Currency",
    "Customer",
    "FundingAccount",
    "IdempotencyKey",
    "Institution",
    "JournalEntry",
    "Posting",
    "RefreshToken",
    "Transfer",
    "User",
]
