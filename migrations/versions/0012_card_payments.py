"""card payments

Card payments held on an account (`card_payment`), what each account has held
(`account.held`, never more than its balance) and the `card_payment` kind of journal entry.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 00:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (in case a type renders as sqlmodel's)
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = "'transfer', 'deposit', 'withdrawal', 'interest'"


def upgrade() -> None:
    with op.batch_alter_table("account", schema=None) as batch_op:
        # Every existing account holds nothing.
        batch_op.add_column(
            sa.Column("held", sa.BigInteger(), nullable=False, server_default=sa.text("0"))
        )
        batch_op.create_check_constraint(
            "ck_account_held_within_balance", "held >= 0 AND (held = 0 OR held <= balance)"
        )
    with op.batch_alter_table("journal_entry", schema=None) as batch_op:
        batch_op.drop_constraint("ck_journal_entry_kind", type_="check")
        batch_op.create_check_constraint(
            "ck_journal_entry_kind", f"kind IN ({KINDS}, 'card_payment')"
        )
    op.create_table(
        "card_payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("iban", sa.String(length=34), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("merchant", sa.String(length=100), nullable=False),
        sa.Column("category", sa.String(length=50), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("settles_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("amount > 0", name="ck_card_payment_amount_positive"),
        sa.CheckConstraint(
            "status IN ('held', 'posted', 'released')", name="ck_card_payment_status"
        ),
        sa.CheckConstraint(
            "(status = 'posted') = (entry_id IS NOT NULL)", name="ck_card_payment_entry_if_posted"
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_card_payment_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["currency"], ["currency.code"], name=op.f("fk_card_payment_currency_currency")
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["journal_entry.id"], name=op.f("fk_card_payment_entry_id_journal_entry")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_payment")),
        sa.UniqueConstraint("entry_id", name=op.f("uq_card_payment_entry_id")),
    )
    with op.batch_alter_table("card_payment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_card_payment_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            "ix_card_payment_status_settles_at", ["status", "settles_at"], unique=False
        )


def downgrade() -> None:
    op.drop_table("card_payment")
    with op.batch_alter_table("journal_entry", schema=None) as batch_op:
        batch_op.drop_constraint("ck_journal_entry_kind", type_="check")
        batch_op.create_check_constraint("ck_journal_entry_kind", f"kind IN ({KINDS})")
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_constraint("ck_account_held_within_balance", type_="check")
        batch_op.drop_column("held")
