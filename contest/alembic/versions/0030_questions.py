"""Qualifying questions, the contest question and its tie-breaker

A contest's qualifying questions (up to five single- or multiple-choice questions on its entry
form, each mapped to a segment tag or a CRM field), as a JSON list; an entry keeps its answers
in its ``answers`` JSON, which needs no change.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contest", schema=None) as batch_op:
        batch_op.add_column(sa.Column("questions", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("contest", schema=None) as batch_op:
        batch_op.drop_column("questions")
