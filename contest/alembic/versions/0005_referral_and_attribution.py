"""referral and attribution

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "invitesuppression",
        sa.Column("address_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("address_hash"),
    )
    op.create_table(
        "linkclick",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contest_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contest_id"],
            ["contest.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("linkclick", schema=None) as batch_op:
        batch_op.create_index(
            "ix_linkclick_contest_kind", ["contest_id", "kind", "created_at"], unique=False
        )

    op.create_table(
        "sourcelink",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contest_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("utm_source", sa.String(length=100), nullable=False),
        sa.Column("utm_medium", sa.String(length=100), nullable=False),
        sa.Column("utm_campaign", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contest_id"],
            ["contest.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    with op.batch_alter_table("sourcelink", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sourcelink_contest_id"), ["contest_id"], unique=False)

    op.create_table(
        "invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contest_id", sa.Integer(), nullable=False),
        sa.Column("referrer_entry_id", sa.Integer(), nullable=False),
        sa.Column("address_hash", sa.String(length=64), nullable=False),
        sa.Column("ip_network", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contest_id"],
            ["contest.id"],
        ),
        sa.ForeignKeyConstraint(
            ["referrer_entry_id"],
            ["entry.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("contest_id", "address_hash"),
    )
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_invitation_referrer_entry_id"), ["referrer_entry_id"], unique=False
        )

    op.create_table(
        "referral",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contest_id", sa.Integer(), nullable=False),
        sa.Column("referrer_entry_id", sa.Integer(), nullable=False),
        sa.Column("referred_entry_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("bonus", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["contest_id"],
            ["contest.id"],
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["organizer.id"],
        ),
        sa.ForeignKeyConstraint(
            ["referred_entry_id"],
            ["entry.id"],
        ),
        sa.ForeignKeyConstraint(
            ["referrer_entry_id"],
            ["entry.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("referred_entry_id"),
    )
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.create_index("ix_referral_contest_status", ["contest_id", "status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_referral_referrer_entry_id"), ["referrer_entry_id"], unique=False
        )

    with op.batch_alter_table("contest", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "attribution_days", sa.Integer(), nullable=False, server_default=sa.text("30")
            )
        )
        batch_op.add_column(
            sa.Column(
                "platform_invitations", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.add_column(
            sa.Column(
                "invitations_override_reason",
                sa.String(length=500),
                nullable=False,
                server_default="",
            )
        )
        batch_op.add_column(
            sa.Column("leaderboard", sa.Boolean(), nullable=False, server_default=sa.false())
        )

    with op.batch_alter_table("entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("referral_code", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("referrer_entry_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("ip_network", sa.String(length=64), nullable=False, server_default="")
        )
        batch_op.create_index(
            batch_op.f("ix_entry_referrer_entry_id"), ["referrer_entry_id"], unique=False
        )
        batch_op.create_unique_constraint("uq_entry_referral_code", ["referral_code"])
        batch_op.create_foreign_key(
            "fk_entry_referrer_entry_id", "entry", ["referrer_entry_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("entry", schema=None) as batch_op:
        # WARNING: constraint name is None; this directive will fail as
        # rendered.  Add a name, or use a naming convention; see
        # https://alembic.sqlalchemy.org/en/latest/naming.html
        batch_op.drop_constraint("fk_entry_referrer_entry_id", type_="foreignkey")
        # WARNING: constraint name is None; this directive will fail as
        # rendered.  Add a name, or use a naming convention; see
        # https://alembic.sqlalchemy.org/en/latest/naming.html
        batch_op.drop_constraint("uq_entry_referral_code", type_="unique")
        batch_op.drop_index(batch_op.f("ix_entry_referrer_entry_id"))
        batch_op.drop_column("ip_network")
        batch_op.drop_column("referrer_entry_id")
        batch_op.drop_column("referral_code")

    with op.batch_alter_table("contest", schema=None) as batch_op:
        batch_op.drop_column("leaderboard")
        batch_op.drop_column("invitations_override_reason")
        batch_op.drop_column("platform_invitations")
        batch_op.drop_column("attribution_days")

    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referral_referrer_entry_id"))
        batch_op.drop_index("ix_referral_contest_status")

    op.drop_table("referral")
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invitation_referrer_entry_id"))

    op.drop_table("invitation")
    with op.batch_alter_table("sourcelink", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sourcelink_contest_id"))

    op.drop_table("sourcelink")
    with op.batch_alter_table("linkclick", schema=None) as batch_op:
        batch_op.drop_index("ix_linkclick_contest_kind")

    op.drop_table("linkclick")
    op.drop_table("invitesuppression")
