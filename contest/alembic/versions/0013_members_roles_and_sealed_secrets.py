"""members, roles and sealed connection secrets

Colleagues and agencies join an organizer's workspace with a role (contest.members); API
tokens carry a role; the audit log names who acted; shop and CRM connections keep their
secrets encrypted with the app's key (contest.secretbox).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("session_version", sa.Integer(), nullable=False),
        sa.Column("invited_by", sa.String(length=254), nullable=False),
        sa.Column("invited_at", sa.DateTime(), nullable=False),
        sa.Column("joined_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizer.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organizer_id", "email"),
    )
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_member_organizer_id"), ["organizer_id"])
        batch_op.create_index(batch_op.f("ix_member_email"), ["email"])
    with op.batch_alter_table("apitoken", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("role", sa.String(length=16), nullable=False, server_default="owner")
        )
    with op.batch_alter_table("auditevent", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("actor", sa.String(length=254), nullable=False, server_default="")
        )
    for table in ("shopconnection", "crmconnection"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("sealed", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    for table in ("shopconnection", "crmconnection"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("sealed")
    with op.batch_alter_table("auditevent", schema=None) as batch_op:
        batch_op.drop_column("actor")
    with op.batch_alter_table("apitoken", schema=None) as batch_op:
        batch_op.drop_column("role")
    op.drop_table("member")
