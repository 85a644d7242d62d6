"""urgent transfers: proposals.status `transferred` and the transfers table

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

BEFORE = ("review", "dropped", "pending", "household_accepted", "household_declined", "expired",
          "commission_ranked", "commission_accepted", "commission_refused", "leased", "cancelled")
AFTER = BEFORE[:10] + ("transferred",) + BEFORE[10:]


def _statuses(values: tuple[str, ...]) -> str:
    return f"status IN ({', '.join(repr(v) for v in values)})"


def upgrade():
    with op.batch_alter_table("proposals") as batch:
        batch.drop_constraint(op.f("ck_proposals_status"), type_="check")
        batch.create_check_constraint(op.f("ck_proposals_status"), _statuses(AFTER))
    op.create_table(
        "transfers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("from_proposal_id", sa.Integer(), nullable=True),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.Column("department", sa.String(length=3), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("reason IN ('safety_incident', 'aggressor_found', 'threats', 'other')",
                           name=op.f("ck_transfers_reason")),
        sa.ForeignKeyConstraint(["household_id"], ["households.id"], ondelete="CASCADE",
                                name=op.f("fk_transfers_household_id_households")),
        sa.ForeignKeyConstraint(["from_proposal_id"], ["proposals.id"], ondelete="SET NULL",
                                name=op.f("fk_transfers_from_proposal_id_proposals")),
        sa.ForeignKeyConstraint(["association_id"], ["organisations.id"], ondelete="RESTRICT",
                                name=op.f("fk_transfers_association_id_organisations")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_transfers_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfers")),
        sa.UniqueConstraint("public_id", name=op.f("uq_transfers_public_id")),
    )
    op.create_index(op.f("ix_transfers_household_id"), "transfers", ["household_id"])
    op.create_index("ix_transfers_department_created", "transfers", ["department", "created_at"])


def downgrade():
    op.drop_index("ix_transfers_department_created", table_name="transfers")
    op.drop_index(op.f("ix_transfers_household_id"), table_name="transfers")
    op.drop_table("transfers")
    # The older schema has no `transferred`: the lease it left is a lease again.
    op.execute("UPDATE proposals SET status = 'leased' WHERE status = 'transferred'")
    with op.batch_alter_table("proposals") as batch:
        batch.drop_constraint(op.f("ck_proposals_status"), type_="check")
        batch.create_check_constraint(op.f("ck_proposals_status"), _statuses(BEFORE))
