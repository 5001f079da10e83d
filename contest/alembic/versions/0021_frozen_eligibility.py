"""client history, committed client sets, eligibility evidence and the pool frozen at close

Client imports append versions (what the shop said, when we learned it); a client-only
contest's eligible clients are committed at publication; each entry keeps the evidence of its
eligibility decision; each contest's pool is frozen once, at its close.

Revision ID: 0021
Revises: 0019
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clientversion",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("organizer_id", sa.Integer(), sa.ForeignKey("organizer.id"), nullable=False),
        sa.Column("email_key", sa.String(length=254), nullable=False),
        sa.Column("client_since", sa.DateTime(), nullable=False),
        sa.Column("orders_count", sa.Integer(), nullable=False),
        sa.Column("segments", sa.JSON(), nullable=False),
        sa.Column("learned_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_clientversion_lookup", "clientversion", ["organizer_id", "email_key", "id"])
    # What is known today was learned, at the latest, when the row last changed.
    op.execute(
        "INSERT INTO clientversion "
        "(organizer_id, email_key, client_since, orders_count, segments, learned_at) "
        "SELECT organizer_id, email_key, client_since, orders_count, segments, updated_at "
        "FROM client ORDER BY updated_at, id"
    )
    op.create_table(
        "clientset",
        sa.Column("contest_id", sa.Integer(), sa.ForeignKey("contest.id"), primary_key=True),
        sa.Column("cutoff", sa.DateTime(), nullable=False),
        sa.Column("clients", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("committed_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "poolfreeze",
        sa.Column("contest_id", sa.Integer(), sa.ForeignKey("contest.id"), primary_key=True),
        sa.Column("closed_at", sa.DateTime(), nullable=False),
        sa.Column("frozen_at", sa.DateTime(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("merkle_root", sa.String(length=64), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("total_weight", sa.Integer(), nullable=False),
        sa.Column("exclusions", sa.JSON(), nullable=False),
    )
    with op.batch_alter_table("entry", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("eligibility", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )


def downgrade() -> None:
    with op.batch_alter_table("entry", schema=None) as batch_op:
        batch_op.drop_column("eligibility")
    op.drop_table("poolfreeze")
    op.drop_table("clientset")
    op.drop_index("ix_clientversion_lookup", table_name="clientversion")
    op.drop_table("clientversion")
