"""standing orders

A customer's weekly or monthly payment (`standing_order`, with its next date) and each
occurrence run (`standing_order_execution`, one per order and date).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 00:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (in case a type renders as sqlmodel's)
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "standing_order",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("from_account_id", sa.Integer(), nullable=False),
        sa.Column("from_iban", sa.String(length=34), nullable=False),
        sa.Column("to_iban", sa.String(length=34), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("description", sa.String(length=140), nullable=False),
        sa.Column("frequency", sa.String(length=20), nullable=False),
        sa.Column("start_on", sa.Date(), nullable=False),
        sa.Column("end_on", sa.Date(), nullable=True),
        sa.Column("day_of_month", sa.Integer(), nullable=False),
        sa.Column("next_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name="ck_standing_order_amount_positive"),
        sa.CheckConstraint(
            "frequency IN ('weekly', 'monthly')", name="ck_standing_order_frequency"
        ),
        sa.CheckConstraint(
            "status IN ('active', 'ended', 'cancelled')", name="ck_standing_order_status"
        ),
        sa.CheckConstraint("day_of_month BETWEEN 1 AND 31", name="ck_standing_order_day_of_month"),
        sa.CheckConstraint(
            "end_on IS NULL OR end_on >= start_on", name="ck_standing_order_end_after_start"
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_standing_order_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["from_account_id"],
            ["account.id"],
            name=op.f("fk_standing_order_from_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["currency"], ["currency.code"], name=op.f("fk_standing_order_currency_currency")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_standing_order")),
    )
    with op.batch_alter_table("standing_order", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_standing_order_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_standing_order_from_account_id"), ["from_account_id"], unique=False
        )
        batch_op.create_index(
            "ix_standing_order_status_next_on", ["status", "next_on"], unique=False
        )

    op.create_table(
        "standing_order_execution",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("standing_order_id", sa.Integer(), nullable=False),
        sa.Column("occurrence_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("failure_reason", sa.String(length=40), nullable=True),
        sa.Column("transfer_id", sa.Integer(), nullable=True),
        sa.Column("executed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('completed', 'failed')", name="ck_standing_order_execution_status"
        ),
        sa.ForeignKeyConstraint(
            ["standing_order_id"],
            ["standing_order.id"],
            name=op.f("fk_standing_order_execution_standing_order_id_standing_order"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["transfer_id"],
            ["transfer.id"],
            name=op.f("fk_standing_order_execution_transfer_id_transfer"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_standing_order_execution")),
        sa.UniqueConstraint(
            "standing_order_id",
            "occurrence_on",
            name="uq_standing_order_execution_occurrence",
        ),
    )


def downgrade() -> None:
    op.drop_table("standing_order_execution")
    with op.batch_alter_table("standing_order", schema=None) as batch_op:
        batch_op.drop_index("ix_standing_order_status_next_on")
        batch_op.drop_index(batch_op.f("ix_standing_order_from_account_id"))
        batch_op.drop_index(batch_op.f("ix_standing_order_customer_id"))
    op.drop_table("standing_order")
