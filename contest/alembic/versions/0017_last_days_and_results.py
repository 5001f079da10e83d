"""last days and results mails

Three days before the close, those who accepted the organizer's offers get their link to share;
after the draw, every confirmed participant gets the results, with an optional consolation
offer: the contest's choices and offer, and when each entry's e-mails went out.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contest", schema=None) as batch_op:
        for name in ("last_days_mail", "results_mail"):
            batch_op.add_column(
                sa.Column(name, sa.Boolean(), nullable=False, server_default=sa.true())
            )
        for name in ("consolation", "consolation_translation"):
            batch_op.add_column(
                sa.Column(name, sa.String(length=500), nullable=False, server_default="")
            )
    with op.batch_alter_table("entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_days_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("results_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("entry", schema=None) as batch_op:
        batch_op.drop_column("results_at")
        batch_op.drop_column("last_days_at")
    with op.batch_alter_table("contest", schema=None) as batch_op:
        for name in ("consolation_translation", "consolation", "results_mail", "last_days_mail"):
            batch_op.drop_column(name)
