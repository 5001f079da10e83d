"""leads and privacy

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consentchain",
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["organizer_id"],
            ["organizer.id"],
        ),
        sa.PrimaryKeyConstraint("organizer_id"),
    )
    op.create_table(
        "crmconnection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organizer_id"],
            ["organizer.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organizer_id"),
    )
    op.create_table(
        "datarequest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("deadline", sa.DateTime(), nullable=False),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organizer_id"],
            ["organizer.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("datarequest", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_datarequest_organizer_id"), ["organizer_id"], unique=False
        )

    op.create_table(
        "purgelog",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("contest_id", sa.Integer(), nullable=True),
        sa.Column("persons", sa.Integer(), nullable=False),
        sa.Column("ran_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organizer_id"],
            ["organizer.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("purgelog", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_purgelog_organizer_id"), ["organizer_id"], unique=False
        )

    op.create_table(
        "contactevent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organizer_id"],
            ["organizer.id"],
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("contactevent", schema=None) as batch_op:
        batch_op.create_index(
            "ix_contactevent_person_time", ["person_id", "created_at"], unique=False
        )

    with op.batch_alter_table("consentrecord", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("record_hash", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint("uq_consent_chain_seq", ["organizer_id", "seq"])

    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_activity_at", sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("undeliverable", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("erased_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("erased_at")
        batch_op.drop_column("undeliverable")
        batch_op.drop_column("last_activity_at")

    with op.batch_alter_table("consentrecord", schema=None) as batch_op:
        batch_op.drop_constraint("uq_consent_chain_seq", type_="unique")
        batch_op.drop_column("record_hash")
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("seq")

    with op.batch_alter_table("contactevent", schema=None) as batch_op:
        batch_op.drop_index("ix_contactevent_person_time")

    op.drop_table("contactevent")
    with op.batch_alter_table("purgelog", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_purgelog_organizer_id"))

    op.drop_table("purgelog")
    with op.batch_alter_table("datarequest", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_datarequest_organizer_id"))

    op.drop_table("datarequest")
    op.drop_table("crmconnection")
    op.drop_table("consentchain")
