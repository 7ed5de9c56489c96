"""scheduled transfers

A transfer gets an id of its own and points at the journal entry that moved its money (none while
it is scheduled, or when it failed or was cancelled), with its status, the date a scheduled one
runs and why one failed. Every existing transfer is completed, with the entry of the same id.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 00:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (in case a type renders as sqlmodel's)
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table("transfer", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_transfer_id_journal_entry"), type_="foreignkey")
        batch_op.add_column(sa.Column("entry_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("status", sa.String(length=20), nullable=False, server_default="completed")
        )
        batch_op.add_column(sa.Column("execute_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("failure_reason", sa.String(length=40), nullable=True))
    op.execute("UPDATE transfer SET entry_id = id")
    with op.batch_alter_table("transfer", schema=None) as batch_op:
        batch_op.alter_column("status", server_default=None)
        batch_op.create_foreign_key(
            batch_op.f("fk_transfer_entry_id_journal_entry"), "journal_entry", ["entry_id"], ["id"]
        )
        batch_op.create_unique_constraint(batch_op.f("uq_transfer_entry_id"), ["entry_id"])
        batch_op.create_check_constraint(
            "ck_transfer_status", "status IN ('completed', 'scheduled', 'failed', 'cancelled')"
        )
        batch_op.create_check_constraint(
            "ck_transfer_entry_if_completed", "(status = 'completed') = (entry_id IS NOT NULL)"
        )
        batch_op.create_index(
            "ix_transfer_status_execute_on", ["status", "execute_on"], unique=False
        )
    if postgresql:
        # The id was the journal entry's; now it is the transfer's own, from a sequence that
        # starts after the ids taken (SQLite numbers an INTEGER PRIMARY KEY by itself).
        op.execute("CREATE SEQUENCE transfer_id_seq OWNED BY transfer.id")
        op.execute("ALTER TABLE transfer ALTER COLUMN id SET DEFAULT nextval('transfer_id_seq')")
        op.execute(
            "SELECT setval('transfer_id_seq', "
            "COALESCE((SELECT MAX(id) FROM transfer), 0) + 1, false)"
        )


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.execute("DELETE FROM transfer WHERE entry_id IS NULL OR entry_id <> id")
    if postgresql:
        op.execute("ALTER TABLE transfer ALTER COLUMN id DROP DEFAULT")
        op.execute("DROP SEQUENCE transfer_id_seq")
    with op.batch_alter_table("transfer", schema=None) as batch_op:
        batch_op.drop_index("ix_transfer_status_execute_on")
        batch_op.drop_constraint("ck_transfer_entry_if_completed", type_="check")
        batch_op.drop_constraint("ck_transfer_status", type_="check")
        batch_op.drop_constraint(batch_op.f("uq_transfer_entry_id"), type_="unique")
        batch_op.drop_constraint(
            batch_op.f("fk_transfer_entry_id_journal_entry"), type_="foreignkey"
        )
        batch_op.drop_column("failure_reason")
        batch_op.drop_column("execute_on")
        batch_op.drop_column("status")
        batch_op.drop_column("entry_id")
        batch_op.create_foreign_key(
            batch_op.f("fk_transfer_id_journal_entry"), "journal_entry", ["id"], ["id"]
        )
