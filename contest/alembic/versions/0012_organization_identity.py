"""organization identity

The organization's legal form, company number, data-protection contact, e-mail sender name
and reply-to, and the defaults of its new contests (contest.organization).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

COLUMNS = (
    ("legal_form", 100, ""),
    ("company_number", 50, ""),
    ("privacy_contact", 254, ""),
    ("sender_name", 100, ""),
    ("reply_to", 254, ""),
    ("default_timezone", 64, "Europe/Paris"),
    ("default_language", 5, "fr"),
)


def upgrade() -> None:
    with op.batch_alter_table("organizer", schema=None) as batch_op:
        for name, length, default in COLUMNS:
            batch_op.add_column(
                sa.Column(name, sa.String(length=length), nullable=False, server_default=default)
            )


def downgrade() -> None:
    with op.batch_alter_table("organizer", schema=None) as batch_op:
        for name, _, _ in COLUMNS:
            batch_op.drop_column(name)
