"""campaigns and the contact limit

E-mail campaigns announcing a contest to a segment of the organizer's leads, the people each
one was queued for, and the organizer's contact limit (at most N marketing messages to one
person in a period, whatever sends them).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organizer", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("contact_limit", sa.Integer(), nullable=False, server_default="1")
        )
        batch_op.add_column(
            sa.Column("contact_period_days", sa.Integer(), nullable=False, server_default="7")
        )
    op.create_table(
        "campaign",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("organizer_id", sa.Integer(), sa.ForeignKey("organizer.id"), nullable=False),
        sa.Column("contest_id", sa.Integer(), sa.ForeignKey("contest.id"), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("subject_fr", sa.String(length=200), nullable=False),
        sa.Column("body_fr", sa.String(length=5000), nullable=False),
        sa.Column("subject_en", sa.String(length=200), nullable=False),
        sa.Column("body_en", sa.String(length=5000), nullable=False),
        sa.Column("segment", sa.String(length=32), nullable=True),
        sa.Column("min_score", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.Column("clients", sa.String(length=16), nullable=False),
        sa.Column("active_days", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("basis", sa.String(length=32), nullable=False),
        sa.Column("rate_per_minute", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("link_code", sa.String(length=16), nullable=False),
        sa.Column("audience_at_start", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("last_batch_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_campaign_organizer_id", "campaign", ["organizer_id"])
    op.create_table(
        "campaignrecipient",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaign.id"), nullable=False),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        sa.Column("queued_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("campaign_id", "person_id"),
    )
    op.create_index("ix_campaignrecipient_person_id", "campaignrecipient", ["person_id"])


def downgrade() -> None:
    op.drop_index("ix_campaignrecipient_person_id", table_name="campaignrecipient")
    op.drop_table("campaignrecipient")
    op.drop_index("ix_campaign_organizer_id", table_name="campaign")
    op.drop_table("campaign")
    with op.batch_alter_table("organizer", schema=None) as batch_op:
        batch_op.drop_column("contact_period_days")
        batch_op.drop_column("contact_limit")
