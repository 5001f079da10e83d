"""Instant win: winning moments fixed and committed at publication

A contest's game format, how its winning moments are spread and what becomes of a prize whose
moment nobody reached; the salt the moments are drawn from (secret until the close) and the
commitment to them; and the moments themselves, each won by the first entry confirmed at or
after it.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contest", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("game", sa.String(length=16), nullable=False, server_default="draw")
        )
        batch_op.add_column(
            sa.Column(
                "instant_spread", sa.String(length=16), nullable=False, server_default="period"
            )
        )
        batch_op.add_column(
            sa.Column(
                "instant_leftover",
                sa.String(length=16),
                nullable=False,
                server_default="final_draw",
            )
        )
        batch_op.add_column(sa.Column("instant_salt", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("instant_commitment", sa.String(length=64), nullable=True))
    op.create_table(
        "instantmoment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contest_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("prize_rank", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("won_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["contest_id"], ["contest.id"]),
        sa.ForeignKeyConstraint(["entry_id"], ["entry.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("contest_id", "position"),
        sa.UniqueConstraint("contest_id", "entry_id"),
    )
    op.create_index(
        "ix_instantmoment_open", "instantmoment", ["contest_id", "entry_id", "at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_instantmoment_open", table_name="instantmoment")
    op.drop_table("instantmoment")
    with op.batch_alter_table("contest", schema=None) as batch_op:
        for name in (
            "instant_commitment",
            "instant_salt",
            "instant_leftover",
            "instant_spread",
            "game",
        ):
            batch_op.drop_column(name)
