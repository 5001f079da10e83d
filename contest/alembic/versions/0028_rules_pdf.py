"""The PDF of each published version of the rules

Rendered once when the version is stored and kept byte for byte with its SHA-256, printed on
the rules page: what an organizer deposits (FR-DEPOSIT-1) and a participant downloads.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rulesversion", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pdf", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("pdf_sha256", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rulesversion", schema=None) as batch_op:
        batch_op.drop_column("pdf_sha256")
        batch_op.drop_column("pdf")
