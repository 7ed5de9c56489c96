"""personas

A customer's life in the sandbox (`persona`: its kind, seed and next day to live), and the
`income` and `payment` kinds of journal entry (money from and to the world outside the bank).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 00:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (in case a type renders as sqlmodel's)
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = "'transfer', 'deposit', 'withdrawal', 'interest', 'card_payment'"


def upgrade() -> None:
    op.create_table(
        "persona",
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("next_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('salaried', 'student', 'freelancer', 'retiree', 'small_business')",
            name="ck_persona_kind",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_persona_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_persona_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_persona")),
    )
    with op.batch_alter_table("persona", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_persona_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_persona_next_on"), ["next_on"], unique=False)
    with op.batch_alter_table("journal_entry", schema=None) as batch_op:
        batch_op.drop_constraint("ck_journal_entry_kind", type_="check")
        batch_op.create_check_constraint(
            "ck_journal_entry_kind", f"kind IN ({KINDS}, 'income', 'payment')"
        )


def downgrade() -> None:
    with op.batch_alter_table("journal_entry", schema=None) as batch_op:
        batch_op.drop_constraint("ck_journal_entry_kind", type_="check")
        batch_op.create_check_constraint("ck_journal_entry_kind", f"kind IN ({KINDS})")
    op.drop_table("persona")
