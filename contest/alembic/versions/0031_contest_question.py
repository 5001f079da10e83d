"""The contest question and its tie-breaker

A question with one right answer (only the right answers take part) and the tie-breaker
question ("question subsidiaire") a ranked contest is won by, each with its translation.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

TEXTS = (
    ("question", 300),
    ("question_translation", 300),
    ("question_answer", 100),
    ("tiebreaker", 300),
    ("tiebreaker_translation", 300),
)


def upgrade() -> None:
    with op.batch_alter_table("contest", schema=None) as batch_op:
        for name, length in TEXTS:
            batch_op.add_column(
                sa.Column(name, sa.String(length=length), nullable=False, server_default="")
            )
        batch_op.add_column(
            sa.Column("question_choices", sa.JSON(), nullable=False, server_default="[]")
        )


def downgrade() -> None:
    with op.batch_alter_table("contest", schema=None) as batch_op:
        batch_op.drop_column("question_choices")
        for name, _length in reversed(TEXTS):
            batch_op.drop_column(name)
