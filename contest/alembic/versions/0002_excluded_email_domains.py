"""contest.excluded_email_domains: staff exclusions by e-mail domain

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contest") as batch:
        batch.add_column(
            sa.Column(
                "excluded_email_domains", sa.JSON(), nullable=False, server_default=sa.text("'[]'")
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("contest") as batch:
        batch.drop_column("excluded_email_domains")
