"""The bot guard: a contest's challenge state and the proofs of work already spent

Whether a contest's entry form asks for a proof of work now (and why, since when, how many
entries it stopped) is one row per contest that every app process reads; a solved challenge is
spent once, its signature kept until the challenge expires. The guard counts a contest's recent
entries from a new index on (contest, creation time, status).

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "challengestate",
        sa.Column("contest_id", sa.Integer(), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("switched_at", sa.DateTime(), nullable=True),
        sa.Column("checked_at", sa.DateTime(), nullable=False),
        sa.Column("stopped_entries", sa.Integer(), nullable=False),
        sa.Column("stopped_invitations", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["contest_id"], ["contest.id"]),
        sa.PrimaryKeyConstraint("contest_id"),
    )
    op.create_table(
        "spentchallenge",
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("signature"),
    )
    op.create_index("ix_spentchallenge_expires_at", "spentchallenge", ["expires_at"], unique=False)
    op.create_index(
        "ix_entry_contest_created", "entry", ["contest_id", "created_at", "status"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_entry_contest_created", table_name="entry")
    op.drop_index("ix_spentchallenge_expires_at", table_name="spentchallenge")
    op.drop_table("spentchallenge")
    op.drop_table("challengestate")
