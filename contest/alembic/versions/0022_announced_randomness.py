"""the public value of each draw, announced at publication

A contest names the source of the public value mixed into its draw (a drand round, a lottery
draw or a bailiff); publication stores the announcement (the drand round for the draw date).
Contests published before keep no announcement: their draws take the value typed in.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contest") as batch:
        batch.add_column(
            sa.Column("randomness", sa.String(length=16), nullable=False, server_default="drand")
        )
        batch.add_column(
            sa.Column("randomness_detail", sa.String(length=200), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("draw_beacon", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contest") as batch:
        batch.drop_column("draw_beacon")
        batch.drop_column("randomness_detail")
        batch.drop_column("randomness")
