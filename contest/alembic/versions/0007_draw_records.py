"""draw records

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "drawrecord",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contest_id", sa.Integer(), nullable=False),
        sa.Column("record", sa.String(), nullable=False),
        sa.Column("pool_digest", sa.String(length=64), nullable=False),
        sa.Column("drawn_at", sa.DateTime(), nullable=False),
        sa.Column("operator", sa.String(length=254), nullable=False),
        sa.ForeignKeyConstraint(
            ["contest_id"],
            ["contest.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("contest_id"),
    )
    op.create_table(
        "drawplacement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contest_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("prize_rank", sa.Integer(), nullable=True),
        sa.Column("ticket", sa.String(length=128), nullable=False),
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
    )
    with op.batch_alter_table("drawplacement", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_drawplacement_contest_id"), ["contest_id"], unique=False
        )

    with op.batch_alter_table("contest", schema=None) as batch_op:
        batch_op.add_column(sa.Column("draw_secret", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("draw_commitment", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contest", schema=None) as batch_op:
        batch_op.drop_column("draw_commitment")
        batch_op.drop_column("draw_secret")

    with op.batch_alter_table("drawplacement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_drawplacement_contest_id"))

    op.drop_table("drawplacement")
    op.drop_table("drawrecord")
