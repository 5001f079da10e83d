"""organization logo

The organization's logo (an uploaded image in the data folder, contest.media), shown on the
contest pages of contests that have no logo of their own.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organizer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("logo_path", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("organizer", schema=None) as batch_op:
        batch_op.drop_column("logo_path")
