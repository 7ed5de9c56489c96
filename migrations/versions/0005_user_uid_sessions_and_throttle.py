"""user uid, sessions and throttle

Every user gets a random, never reused `uid` (tokens name users by it, no longer by the row id,
which SQLite may hand out again after a delete). Refresh-token families become sessions
(`auth_session`): each family of existing refresh tokens becomes one session, revoked when every
token of it was. Failed logons and registrations are counted in `throttle`.

Access tokens issued before this revision carry neither `uid` nor session and are refused from
now on: their holders log on again (refresh tokens keep working).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 21:00:00.000000
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (in case a type renders as sqlmodel's)
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()

    # user.uid: added nullable, filled with a fresh UUID per row, then required and unique.
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("uid", sa.Uuid(), nullable=True))
    user = sa.table("user", sa.column("id", sa.Integer()), sa.column("uid", sa.Uuid()))
    for (user_id,) in bind.execute(sa.select(user.c.id)).all():
        bind.execute(sa.update(user).where(user.c.id == user_id).values(uid=uuid.uuid4()))
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.alter_column("uid", existing_type=sa.Uuid(), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_user_uid"), ["uid"])

    op.create_table(
        "auth_session",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_auth_session_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_session")),
    )
    with op.batch_alter_table("auth_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auth_session_user_id"), ["user_id"], unique=False)

    # One session per refresh-token family; revoked when all of its tokens were.
    op.execute(
        """
        INSERT INTO auth_session (id, user_id, created_at, revoked_at)
        SELECT family, MIN(user_id), MIN(created_at),
               CASE WHEN COUNT(revoked_at) = COUNT(*) THEN MAX(revoked_at) END
        FROM refresh_token
        GROUP BY family
        """
    )
    with op.batch_alter_table("refresh_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refresh_token_family"))
        batch_op.drop_index(batch_op.f("ix_refresh_token_user_id"))
        batch_op.drop_constraint(batch_op.f("fk_refresh_token_user_id_user"), type_="foreignkey")
        batch_op.alter_column(
            "family", new_column_name="session_id", existing_type=sa.String(length=32)
        )
        batch_op.drop_column("user_id")
        batch_op.drop_column("revoked_at")
    with op.batch_alter_table("refresh_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refresh_token_session_id"), ["session_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_refresh_token_session_id_auth_session"),
            "auth_session",
            ["session_id"],
            ["id"],
            ondelete="CASCADE",
        )

    op.create_table(
        "throttle",
        sa.Column("scope", sa.String(length=30), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_throttle_attempts")),
        sa.CheckConstraint(
            "scope IN ('logon_account', 'logon_address', 'registration_address')",
            name=op.f("ck_throttle_scope"),
        ),
        sa.PrimaryKeyConstraint("scope", "subject", name=op.f("pk_throttle")),
    )


def downgrade() -> None:
    op.drop_table("throttle")
    with op.batch_alter_table("refresh_token", schema=None) as batch_op:
        batch_op.add_column(sa.Column("user_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        """
        UPDATE refresh_token SET
            user_id = (SELECT user_id FROM auth_session WHERE auth_session.id = session_id),
            revoked_at = (SELECT revoked_at FROM auth_session WHERE auth_session.id = session_id)
        """
    )
    with op.batch_alter_table("refresh_token", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_refresh_token_session_id_auth_session"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_refresh_token_session_id"))
        batch_op.alter_column(
            "session_id", new_column_name="family", existing_type=sa.String(length=32)
        )
        batch_op.alter_column("user_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("refresh_token", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_refresh_token_user_id_user"),
            "user",
            ["user_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_index(batch_op.f("ix_refresh_token_user_id"), ["user_id"])
        batch_op.create_index(batch_op.f("ix_refresh_token_family"), ["family"])
    with op.batch_alter_table("auth_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auth_session_user_id"))
    op.drop_table("auth_session")
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_user_uid"), type_="unique")
        batch_op.drop_column("uid")
