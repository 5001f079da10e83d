"""consent wordings as columns

Each configurable contest field is one column (declared once in contest.contests.fields):
the wordings of the two optional consent boxes leave the ``consents`` JSON list.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

WORDINGS = {
    ("marketing_email", "label_fr"): "marketing_label_fr",
    ("marketing_email", "label_en"): "marketing_label_en",
    ("partners", "label_fr"): "partners_label_fr",
    ("partners", "label_en"): "partners_label_en",
}


def upgrade() -> None:
    with op.batch_alter_table("contest", schema=None) as batch_op:
        for column in WORDINGS.values():
            batch_op.add_column(
                sa.Column(column, sa.String(length=500), nullable=False, server_default="")
            )
    contest = sa.table(
        "contest",
        sa.column("id", sa.Integer()),
        sa.column("consents", sa.JSON()),
        *(sa.column(column, sa.String()) for column in WORDINGS.values()),
    )
    connection = op.get_bind()
    for row in connection.execute(sa.select(contest.c.id, contest.c.consents)).all():
        options = (
            row.consents if isinstance(row.consents, list) else json.loads(row.consents or "[]")
        )
        values = {
            WORDINGS[(option["purpose"], key)]: option.get(key, "")
            for option in options
            for key in ("label_fr", "label_en")
            if (option.get("purpose"), key) in WORDINGS
        }
        if values:
            connection.execute(sa.update(contest).where(contest.c.id == row.id).values(**values))
    with op.batch_alter_table("contest", schema=None) as batch_op:
        batch_op.drop_column("consents")


def downgrade() -> None:
    with op.batch_alter_table("contest", schema=None) as batch_op:
        batch_op.add_column(sa.Column("consents", sa.JSON(), nullable=False, server_default="[]"))
    contest = sa.table(
        "contest",
        sa.column("id", sa.Integer()),
        sa.column("consents", sa.JSON()),
        *(sa.column(column, sa.String()) for column in WORDINGS.values()),
    )
    connection = op.get_bind()
    for row in connection.execute(sa.select(contest)).all():
        options = []
        for purpose in ("marketing_email", "partners"):
            labels = {
                key: getattr(row, WORDINGS[(purpose, key)]) for key in ("label_fr", "label_en")
            }
            if any(labels.values()):
                options.append({"purpose": purpose, **labels})
        connection.execute(
            sa.update(contest).where(contest.c.id == row.id).values(consents=options)
        )
    with op.batch_alter_table("contest", schema=None) as batch_op:
        for column in WORDINGS.values():
            batch_op.drop_column(column)
