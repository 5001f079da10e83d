"""organizer workspace

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ratelimit",
        sa.Column("bucket", sa.String(length=200), nullable=False),
        sa.Column("window_start", sa.DateTime(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("bucket"),
    )
    op.create_table(
        "apitoken",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organizer_id"],
            ["organizer.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("apitoken", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_apitoken_organizer_id"), ["organizer_id"], unique=False
        )

    op.create_table(
        "auditevent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("contest_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contest_id"],
            ["contest.id"],
        ),
        sa.ForeignKeyConstraint(
            ["organizer_id"],
            ["organizer.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("auditevent", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_auditevent_organizer_id"), ["organizer_id"], unique=False
        )

    op.create_table(
        "funnelcount",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contest_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contest_id"],
            ["contest.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("contest_id", "day", "metric"),
    )
    op.create_table(
        "rulesversion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contest_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contest_id"],
            ["contest.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("contest_id", "version"),
    )
    with op.batch_alter_table("rulesversion", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rulesversion_contest_id"), ["contest_id"], unique=False
        )

    with op.batch_alter_table("contest", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("requires_purchase", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("purchase_bonus", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("brand_color", sa.String(length=7), nullable=False, server_default="#1f4fd1")
        )
        batch_op.add_column(sa.Column("image_path", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("logo_path", sa.String(length=200), nullable=True))

    with op.batch_alter_table("organizer", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_version", sa.Integer(), nullable=False, server_default=sa.text("1"))
        )


def downgrade() -> None:
    with op.batch_alter_table("organizer", schema=None) as batch_op:
        batch_op.drop_column("session_version")

    with op.batch_alter_table("contest", schema=None) as batch_op:
        batch_op.drop_column("logo_path")
        batch_op.drop_column("image_path")
        batch_op.drop_column("brand_color")
        batch_op.drop_column("purchase_bonus")
        batch_op.drop_column("requires_purchase")

    with op.batch_alter_table("rulesversion", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rulesversion_contest_id"))

    op.drop_table("rulesversion")
    op.drop_table("funnelcount")
    with op.batch_alter_table("auditevent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auditevent_organizer_id"))

    op.drop_table("auditevent")
    with op.batch_alter_table("apitoken", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_apitoken_organizer_id"))

    op.drop_table("apitoken")
    op.drop_table("ratelimit")
