"""Tables and their API model families, one module per entity.

Importing this package registers every table on `SQLModel.metadata`.
"""

from sqlmodel import SQLModel

# Constraint and index names, so migrations name them the same on SQLite and PostgreSQL (and
# batch ALTERs on SQLite can find them). Set before any table module below is imported: the
# names are given when a constraint is attached to its table. Check constraints are named by
# hand (ck_<table>_<rule>); an unnamed one is an error.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION

from app.models.account import Account  # noqa: E402
from app.models.api_key import ApiKey  # noqa: E402
from app.models.asset import Asset  # noqa: E402
from app.models.auth_session import AuthSession  # noqa: E402
from app.models.card_payment import CardPayment  # noqa: E402
from app.models.clock import SandboxClock  # noqa: E402
from app.models.country import AllowedCountry  # noqa: E402
from app.models.currency import Currency  # noqa: E402
from app.models.customer import Customer  # noqa: E402
from app.models.derivative_transaction import DerivativeTransaction  # noqa: E402
from app.models.funding_account import FundingAccount  # noqa: E402
from app.models.fx_rate import FxRate  # noqa: E402
from app.models.idempotency_key import IdempotencyKey  # noqa: E402
from app.models.institution import Institution  # noqa: E402
from app.models.interest import InterestRate  # noqa: E402
from app.models.journal_entry import JournalEntry  # noqa: E402
from app.models.persona import Persona  # noqa: E402
from app.models.portfolio_transaction import PortfolioTransaction  # noqa: E402
from app.models.posting import Posting  # noqa: E402
from app.models.refresh_token import RefreshToken  # noqa: E402
from app.models.sandbox import Sandbox, SandboxSnapshot  # noqa: E402
from app.models.spending import Spending  # noqa: E402
from app.models.standing_order import StandingOrder, StandingOrderExecution  # noqa: E402
from app.models.throttle import Throttle  # noqa: E402
from app.models.transfer import Transfer  # noqa: E402
from app.models.user import User  # noqa: E402

__all__ = [
    "Account",
    "AllowedCountry",
    "ApiKey",
    "Asset",
    "AuthSession",
    "CardPayment",
    "Currency",
    "Customer",
    "DerivativeTransaction",
    "FundingAccount",
    "FxRate",
    "IdempotencyKey",
    "Institution",
    "InterestRate",
    "JournalEntry",
    "Persona",
    "PortfolioTransaction",
    "Posting",
    "RefreshToken",
    "Sandbox",
    "SandboxClock",
    "SandboxSnapshot",
    "Spending",
    "StandingOrder",
    "StandingOrderExecution",
    "Throttle",
    "Transfer",
    "User",
]
