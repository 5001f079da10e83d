"""Indexes that answer the dashboard of a big contest from the index alone

A contest of a million entries: its totals and the viral counts read (contest, status,
referrer, confirmation time, chances), its sources (contest, source, status), and the walk
down referral chains (referrer, status, contest), each without visiting the table. The two
narrower indexes they replace are prefixes of them.

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None

STATUS = ["contest_id", "status", "referrer_entry_id", "confirmed_at", "chances"]


def upgrade() -> None:
    op.drop_index("ix_entry_contest_status", table_name="entry")
    op.create_index("ix_entry_contest_status", "entry", STATUS, unique=False)
    op.drop_index("ix_entry_referrer_entry_id", table_name="entry")
    op.create_index(
        "ix_entry_referrer_status",
        "entry",
        ["referrer_entry_id", "status", "contest_id"],
        unique=False,
    )
    op.create_index(
        "ix_entry_contest_source", "entry", ["contest_id", "source", "status"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_entry_contest_source", table_name="entry")
    op.drop_index("ix_entry_referrer_status", table_name="entry")
    op.create_index("ix_entry_referrer_entry_id", "entry", ["referrer_entry_id"], unique=False)
    op.drop_index("ix_entry_contest_status", table_name="entry")
    op.create_index("ix_entry_contest_status", "entry", ["contest_id", "status"], unique=False)
