"""the ways to enter a contest

A contest declares how people may enter: its page, free channels the organizer runs (e-mail,
post, in the shop), or paid ones the rules refuse (FR-COSTS-1, FR-NOPURCHASE-1).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contest", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("entry_channels", sa.JSON(), nullable=False, server_default='["web"]')
        )


def downgrade() -> None:
    with op.batch_alter_table("contest", schema=None) as batch_op:
        batch_op.drop_column("entry_channels")
