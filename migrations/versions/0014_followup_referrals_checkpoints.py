"""referrals by landlords' staff and follow-up checkpoints after the lease (issue 18)

Revision ID: 0014
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = "0014"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "referrals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("landlord_id", sa.Integer(), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.Column("landlord_reference", sa.String(length=80), nullable=False),
        sa.Column("department", sa.String(length=3), nullable=False),
        sa.Column("adults", sa.Integer(), nullable=False),
        sa.Column("children", sa.Integer(), nullable=False),
        sa.Column("urgency", sa.Integer(), nullable=False),
        sa.Column("shares_home", sa.Boolean(), nullable=False),
        sa.Column("consent_on", sa.Date(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("decline_reason", sa.String(length=32), nullable=True),
        sa.Column("household_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('sent', 'accepted', 'declined')", name=op.f("ck_referrals_status")),
        sa.CheckConstraint(
            "decline_reason IS NULL OR decline_reason IN ('out_of_scope', 'no_capacity', 'household_refused', "
            "'already_supported', 'other_association')", name=op.f("ck_referrals_decline_reason")),
        sa.CheckConstraint("(status = 'declined') = (decline_reason IS NOT NULL)",
                           name=op.f("ck_referrals_declined_with_reason")),
        sa.CheckConstraint("household_id IS NULL OR status = 'accepted'",
                           name=op.f("ck_referrals_household_when_accepted")),
        sa.CheckConstraint("adults >= 1 AND adults <= 10", name=op.f("ck_referrals_adults_range")),
        sa.CheckConstraint("children >= 0 AND children <= 15", name=op.f("ck_referrals_children_range")),
        sa.CheckConstraint("urgency >= 0 AND urgency <= 3", name=op.f("ck_referrals_urgency_range")),
        sa.ForeignKeyConstraint(["landlord_id"], ["organisations.id"], ondelete="RESTRICT",
                                name=op.f("fk_referrals_landlord_id_organisations")),
        sa.ForeignKeyConstraint(["association_id"], ["organisations.id"], ondelete="RESTRICT",
                                name=op.f("fk_referrals_association_id_organisations")),
        sa.ForeignKeyConstraint(["household_id"], ["households.id"], ondelete="SET NULL",
                                name=op.f("fk_referrals_household_id_households")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_referrals_created_by_id_users")),
        sa.ForeignKeyConstraint(["decided_by_id"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_referrals_decided_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
        sa.UniqueConstraint("public_id", name=op.f("uq_referrals_public_id")),
        sa.UniqueConstraint("household_id", name=op.f("uq_referrals_household_id")),
        sa.UniqueConstraint("landlord_id", "landlord_reference", name=op.f("uq_referrals_landlord_id_landlord_reference")),
    )
    op.create_index("ix_referrals_association_status", "referrals", ["association_id", "status"])
    op.create_index("ix_referrals_landlord_created", "referrals", ["landlord_id", "created_at"])
    op.create_table(
        "checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("lease_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("recorded_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('due', 'fine', 'difficulties', 'left')", name=op.f("ck_checkpoints_status")),
        sa.CheckConstraint("months IN (3, 6, 12)", name=op.f("ck_checkpoints_months")),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('none', 'support_in_place', 'support_ended', 'rent_arrears', "
            "'safety_incident', 'tenancy_incident', 'transfer_needed', 'moved_by_choice', 'lost_contact')",
            name=op.f("ck_checkpoints_outcome")),
        sa.CheckConstraint("(status = 'due') = (recorded_at IS NULL)", name=op.f("ck_checkpoints_recorded_when_done")),
        sa.CheckConstraint("status = 'due' OR outcome IS NOT NULL", name=op.f("ck_checkpoints_outcome_when_done")),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposals.id"], ondelete="CASCADE",
                                name=op.f("fk_checkpoints_proposal_id_proposals")),
        sa.ForeignKeyConstraint(["household_id"], ["households.id"], ondelete="CASCADE",
                                name=op.f("fk_checkpoints_household_id_households")),
        sa.ForeignKeyConstraint(["association_id"], ["organisations.id"], ondelete="RESTRICT",
                                name=op.f("fk_checkpoints_association_id_organisations")),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_checkpoints_recorded_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkpoints")),
        sa.UniqueConstraint("public_id", name=op.f("uq_checkpoints_public_id")),
        sa.UniqueConstraint("proposal_id", "months", name=op.f("uq_checkpoints_proposal_id_months")),
    )
    op.create_index(op.f("ix_checkpoints_household_id"), "checkpoints", ["household_id"])
    op.create_index("ix_checkpoints_association_status_due", "checkpoints", ["association_id", "status", "due_on"])


def downgrade():
    op.drop_index("ix_checkpoints_association_status_due", table_name="checkpoints")
    op.drop_index(op.f("ix_checkpoints_household_id"), table_name="checkpoints")
    op.drop_table("checkpoints")
    op.drop_index("ix_referrals_landlord_created", table_name="referrals")
    op.drop_index("ix_referrals_association_status", table_name="referrals")
    op.drop_table("referrals")
