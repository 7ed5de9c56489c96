"""Tables and their API model families, one module per entity.

Importing this package registers every table on `SQLModel.metadata`.
"""

from app.models.account import Account
from app.models.asset import Asset
from app.models.country import AllowedCountry
from app.models.currency import Currency
from app.models.customer import Customer
from app.models.derivative_transaction import DerivativeTransaction
from app.models.fx_rate import FxRate
from app.models.institution import Institution
from app.models.portfolio_transaction import PortfolioTransaction
from app.models.refresh_token import RefreshToken
from app.models.spending import Spending
from app.models.user import User

__all__ = [
    "Account",
    "AllowedCountry",
    "Asset",
    "Currency",
    "Customer",
    "DerivativeTransaction",
    "FxRate",
    "Institution",
    "PortfolioTransaction",
    "RefreshToken",
    "Spending",
    "User",
]
