"""confirm reminder

One reminder to confirm, 24 hours after entering, for contests that keep it on (the
default): the contest's choice, and when the entry's reminder went out.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contest", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("confirm_reminder", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    with op.batch_alter_table("entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminded_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("entry", schema=None) as batch_op:
        batch_op.drop_column("reminded_at")
    with op.batch_alter_table("contest", schema=None) as batch_op:
        batch_op.drop_column("confirm_reminder")
