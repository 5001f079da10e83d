"""when each entrant was told of the latest change to the rules

A change to the rules of a published contest is e-mailed to every entrant who confirmed under
an earlier version; the entry records when it was told, so each change is told once.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rules_noticed_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("entry", schema=None) as batch_op:
        batch_op.drop_column("rules_noticed_at")
