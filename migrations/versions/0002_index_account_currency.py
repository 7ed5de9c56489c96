"""index account.currency

The foreign key to currency.code had no index: removing a currency ("is it still used by an
account?") and the database's own foreign-key check on that delete read the whole account table.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 05:38:51.280482
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_currency"), ["currency"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_currency"))
