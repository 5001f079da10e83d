"""where a contest's rules were deposited

The deposit of the rules with a commissaire de justice is optional in France (FR-DEPOSIT-1);
when it was made, its officer, reference and date are printed in the rules.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contest", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("deposit_officer", sa.String(length=300), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("deposit_reference", sa.String(length=100), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("deposit_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contest", schema=None) as batch_op:
        for name in ("deposit_at", "deposit_reference", "deposit_officer"):
            batch_op.drop_column(name)
