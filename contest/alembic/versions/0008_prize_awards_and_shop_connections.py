"""prize awards and shop connections

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shopconnection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organizer_id"],
            ["organizer.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organizer_id"),
    )
    op.create_table(
        "prizeaward",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contest_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("prize_rank", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("deadline", sa.DateTime(), nullable=False),
        sa.Column("notified_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.Column("voucher_code", sa.String(length=40), nullable=True),
        sa.Column("shop_reference", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["contest_id"],
            ["contest.id"],
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["entry.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("contest_id", "entry_id"),
        sa.UniqueConstraint("voucher_code"),
    )
    with op.batch_alter_table("prizeaward", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_prizeaward_contest_id"), ["contest_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("prizeaward", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_prizeaward_contest_id"))

    op.drop_table("prizeaward")
    op.drop_table("shopconnection")
