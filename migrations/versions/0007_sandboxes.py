"""sandboxes

The registry of sandboxes (isolated banks, each a database of its own) and their snapshots; API
key prefixes long enough to show a sandbox key's sandbox.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 00:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (in case a type renders as sqlmodel's)
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sandbox",
        sa.Column("id", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=True),
        sa.Column("template", sa.String(length=20), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.Column("forked_from", sa.String(length=20), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("template IN ('empty', 'demo')", name="ck_sandbox_template"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox")),
    )
    with op.batch_alter_table("sandbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sandbox_expires_at"), ["expires_at"], unique=False)
    op.create_table(
        "sandbox_snapshot",
        sa.Column("sandbox_id", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("storage_key", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["sandbox_id"],
            ["sandbox.id"],
            name=op.f("fk_sandbox_snapshot_sandbox_id_sandbox"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("sandbox_id", "name", name=op.f("pk_sandbox_snapshot")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_sandbox_snapshot_storage_key")),
    )
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.alter_column(
            "prefix", existing_type=sa.String(length=16), type_=sa.String(length=40)
        )


def downgrade() -> None:
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.alter_column(
            "prefix", existing_type=sa.String(length=40), type_=sa.String(length=16)
        )
    op.drop_table("sandbox_snapshot")
    with op.batch_alter_table("sandbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sandbox_expires_at"))
    op.drop_table("sandbox")
