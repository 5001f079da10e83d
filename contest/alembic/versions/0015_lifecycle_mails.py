"""confirm reminder and friends confirmed

One reminder to confirm, 24 hours after entering, and a daily word to referrers whose friends
confirmed, for contests that keep them on (the default): the contest's choices, and when each
entry's reminder and last word went out.

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
        batch_op.add_column(
            sa.Column("friend_mail", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    with op.batch_alter_table("entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminded_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("friends_told_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("entry", schema=None) as batch_op:
        batch_op.drop_column("friends_told_at")
        batch_op.drop_column("reminded_at")
    with op.batch_alter_table("contest", schema=None) as batch_op:
        batch_op.drop_column("friend_mail")
        batch_op.drop_column("confirm_reminder")
