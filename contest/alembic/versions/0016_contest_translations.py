"""contest texts in the second language

A contest's title, description, draw method, winner notification, personal-data notice and
prize descriptions may be given in its second language too; an empty text shows the contest's
own.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

CONTEST_TEXTS = {
    "title_translation": 200,
    "description_translation": 5000,
    "draw_method_translation": 500,
    "winner_notification_translation": 500,
    "privacy_notice_translation": 5000,
}


def upgrade() -> None:
    with op.batch_alter_table("contest", schema=None) as batch_op:
        for name, length in CONTEST_TEXTS.items():
            batch_op.add_column(
                sa.Column(name, sa.String(length=length), nullable=False, server_default="")
            )
    with op.batch_alter_table("prize", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "description_translation",
                sa.String(length=500),
                nullable=False,
                server_default="",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("prize", schema=None) as batch_op:
        batch_op.drop_column("description_translation")
    with op.batch_alter_table("contest", schema=None) as batch_op:
        for name in reversed(CONTEST_TEXTS):
            batch_op.drop_column(name)
