"""United States settings of a contest

The states a contest leaves out, its New York and Florida registration and filing dates, and
the prizes' total in US dollars when they are in another currency: the facts of US-REG-1,
US-REG-RI-1 and US-GEO-1.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contest", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("us_states_excluded", sa.JSON(), nullable=False, server_default="[]")
        )
        batch_op.add_column(
            sa.Column(
                "us_registration_filed", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.add_column(sa.Column("ny_filing_date", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("fl_filing_date", sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("prizes_value_usd", sa.Numeric(precision=12, scale=2), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("contest", schema=None) as batch_op:
        for name in (
            "prizes_value_usd",
            "fl_filing_date",
            "ny_filing_date",
            "us_registration_filed",
            "us_states_excluded",
        ):
            batch_op.drop_column(name)
