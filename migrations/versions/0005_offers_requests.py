"""rehousing requests and the refused offers on them (the offer board)

Revision ID: 0005
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = "0005"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("proposals") as batch:
        batch.add_column(sa.Column("origin_reason", sa.String(length=200), nullable=True))
    op.create_table(
        "rehousing_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("departments", sa.JSON(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('open', 'answered', 'closed')", name=op.f("ck_rehousing_requests_status")),
        sa.ForeignKeyConstraint(["association_id"], ["organisations.id"], ondelete="RESTRICT",
                                name=op.f("fk_rehousing_requests_association_id_organisations")),
        sa.ForeignKeyConstraint(["household_id"], ["households.id"], ondelete="CASCADE",
                                name=op.f("fk_rehousing_requests_household_id_households")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_rehousing_requests_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rehousing_requests")),
        sa.UniqueConstraint("public_id", name=op.f("uq_rehousing_requests_public_id")),
    )
    op.create_index("ix_rehousing_requests_status", "rehousing_requests", ["status"])
    op.create_index("ix_rehousing_requests_household_status", "rehousing_requests", ["household_id", "status"])
    op.create_index(op.f("ix_rehousing_requests_association_id"), "rehousing_requests", ["association_id"])
    op.create_table(
        "refused_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("landlord_id", sa.Integer(), nullable=False),
        sa.Column("offered_by_id", sa.Integer(), nullable=True),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["rehousing_requests.id"], ondelete="CASCADE",
                                name=op.f("fk_refused_offers_request_id_rehousing_requests")),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], ondelete="CASCADE",
                                name=op.f("fk_refused_offers_unit_id_units")),
        sa.ForeignKeyConstraint(["landlord_id"], ["organisations.id"], ondelete="CASCADE",
                                name=op.f("fk_refused_offers_landlord_id_organisations")),
        sa.ForeignKeyConstraint(["offered_by_id"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_refused_offers_offered_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refused_offers")),
    )
    op.create_index("ix_refused_offers_request_landlord", "refused_offers",
                    ["request_id", "landlord_id", "created_at"])


def downgrade():
    op.drop_index("ix_refused_offers_request_landlord", table_name="refused_offers")
    op.drop_table("refused_offers")
    op.drop_index(op.f("ix_rehousing_requests_association_id"), table_name="rehousing_requests")
    op.drop_index("ix_rehousing_requests_household_status", table_name="rehousing_requests")
    op.drop_index("ix_rehousing_requests_status", table_name="rehousing_requests")
    op.drop_table("rehousing_requests")
    with op.batch_alter_table("proposals") as batch:
        batch.drop_column("origin_reason")
