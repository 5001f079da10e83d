"""Rate limits keep no address

Sign-in and password-reset limits are now keyed by a keyed hash of the address (and the
network); the counters kept under the plain address before are deleted.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        sa.text(
            "DELETE FROM ratelimit WHERE bucket LIKE 'login:address:%' "
            "OR bucket LIKE 'reset:address:%'"
        )
    )


def downgrade() -> None:
    """Nothing to restore: the counters were short-lived, and held addresses."""
