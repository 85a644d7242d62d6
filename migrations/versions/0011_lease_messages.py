"""the lease record of a proposal (dates, kind) and the messages on a proposal

Revision ID: 0011
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

from models.base import EncryptedJSON, UTCDateTime

revision = "0011"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "leases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("move_in_on", sa.Date(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('direct', 'sliding', 'sublet')", name=op.f("ck_leases_kind")),
        sa.CheckConstraint("move_in_on >= signed_on", name=op.f("ck_leases_move_in_after_signature")),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposals.id"], ondelete="CASCADE",
                                name=op.f("fk_leases_proposal_id_proposals")),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_leases_recorded_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leases")),
        sa.UniqueConstraint("proposal_id", name=op.f("uq_leases_proposal_id")),
    )
    op.create_table(
        "proposal_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("body", EncryptedJSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposals.id"], ondelete="CASCADE",
                                name=op.f("fk_proposal_messages_proposal_id_proposals")),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"], ondelete="CASCADE",
                                name=op.f("fk_proposal_messages_organisation_id_organisations")),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_proposal_messages_author_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal_messages")),
    )
    op.create_index("ix_proposal_messages_proposal_created", "proposal_messages", ["proposal_id", "created_at"])


def downgrade():
    op.drop_index("ix_proposal_messages_proposal_created", table_name="proposal_messages")
    op.drop_table("proposal_messages")
    op.drop_table("leases")
