"""sending domains

The domains e-mails are sent From, each with its DKIM key (sealed), the selector it is
published under, and what the last check of its DNS records found: one per organizer, and the
platform's own (no organizer).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sendingdomain",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=True),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("selector", sa.String(length=63), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("sealed_key", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("verified_at", sa.DateTime(), nullable=True),
        sa.Column("checked_at", sa.DateTime(), nullable=True),
        sa.Column("last_check", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizer.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organizer_id"),
    )
    with op.batch_alter_table("sendingdomain", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sendingdomain_domain"), ["domain"])


def downgrade() -> None:
    with op.batch_alter_table("sendingdomain", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sendingdomain_domain"))
    op.drop_table("sendingdomain")
