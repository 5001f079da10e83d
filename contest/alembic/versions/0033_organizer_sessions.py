"""Organizer sessions kept server-side

Each signed-in workspace browser has a row; its cookie is valid only while the row is neither
revoked nor past its end: signing out ends a copied cookie too, and the owner can end any
session of the organization.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "organizersession",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("nonce_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("device", sa.String(length=120), nullable=False),
        sa.Column("network", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizer.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("nonce_hash"),
    )
    op.create_index(
        "ix_organizersession_organizer_id", "organizersession", ["organizer_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_organizersession_organizer_id", table_name="organizersession")
    op.drop_table("organizersession")
