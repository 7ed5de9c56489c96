"""interest on saving accounts

Annual rates per currency (`interest_rate`), the `interest` kind of journal entry, and how far
the sandbox's clock has run what falls due (`sandbox_clock.due_through`: a month's interest is
paid once the clock passes the month's end).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 00:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (in case a type renders as sqlmodel's)
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = "'transfer', 'deposit', 'withdrawal'"


def upgrade() -> None:
    op.create_table(
        "interest_rate",
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("annual_percent", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("annual_percent > 0", name="ck_interest_rate_positive"),
        sa.ForeignKeyConstraint(
            ["currency"],
            ["currency.code"],
            name=op.f("fk_interest_rate_currency_currency"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("currency", name=op.f("pk_interest_rate")),
    )
    with op.batch_alter_table("sandbox_clock", schema=None) as batch_op:
        batch_op.add_column(sa.Column("due_through", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("journal_entry", schema=None) as batch_op:
        batch_op.drop_constraint("ck_journal_entry_kind", type_="check")
        batch_op.create_check_constraint("ck_journal_entry_kind", f"kind IN ({KINDS}, 'interest')")


def downgrade() -> None:
    with op.batch_alter_table("journal_entry", schema=None) as batch_op:
        batch_op.drop_constraint("ck_journal_entry_kind", type_="check")
        batch_op.create_check_constraint("ck_journal_entry_kind", f"kind IN ({KINDS})")
    with op.batch_alter_table("sandbox_clock", schema=None) as batch_op:
        batch_op.drop_column("due_through")
    op.drop_table("interest_rate")
