"""contest accent colour

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contest", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("accent_color", sa.String(length=7), nullable=False, server_default="#6b3fd1")
        )


def downgrade() -> None:
    with op.batch_alter_table("contest", schema=None) as batch_op:
        batch_op.drop_column("accent_color")
