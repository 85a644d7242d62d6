"""snapshot_solves: the committee's unmet-needs and what-if solves, computed by a worker

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-04 13:07:49.241509
"""

from alembic import op
import sqlalchemy as sa
import models.base


revision = "0016"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "snapshot_solves",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("departments", sa.String(length=400), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('needs', 'whatif')", name=op.f("ck_snapshot_solves_kind")),
        sa.CheckConstraint("status <> 'done' OR result IS NOT NULL", name=op.f("ck_snapshot_solves_done_has_result")),
        sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name=op.f("ck_snapshot_solves_status")),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["users.id"],
            name=op.f("fk_snapshot_solves_requested_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_snapshot_solves")),
    )
    with op.batch_alter_table("snapshot_solves", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_snapshot_solves_key"), ["key"], unique=False)



def downgrade():
    with op.batch_alter_table("snapshot_solves", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_snapshot_solves_key"))

    op.drop_table("snapshot_solves")
