"""Rhode Island, California and the reimbursement of participation costs

The Rhode Island statement of an in-shop promotion (US-REG-RI-1), the organizer's CCPA
coverage and its Notice of Financial Incentive (US-CA-CCPA-1), and the optional reimbursement
of what taking part costs, with where and when to ask and on what basis (FR-COSTS-1).

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

FLAGS = ("ri_registration_filed", "ccpa_covered", "cost_reimbursement")
TEXTS = (
    ("ccpa_incentive_notice", 3000),
    ("reimbursement_address", 300),
    ("reimbursement_basis", 500),
)


def upgrade() -> None:
    with op.batch_alter_table("contest", schema=None) as batch_op:
        for name in FLAGS:
            batch_op.add_column(
                sa.Column(name, sa.Boolean(), nullable=False, server_default=sa.false())
            )
        for name, length in TEXTS:
            batch_op.add_column(
                sa.Column(name, sa.String(length=length), nullable=False, server_default="")
            )
        batch_op.add_column(sa.Column("reimbursement_days", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contest", schema=None) as batch_op:
        batch_op.drop_column("reimbursement_days")
        for name, _length in reversed(TEXTS):
            batch_op.drop_column(name)
        for name in reversed(FLAGS):
            batch_op.drop_column(name)
