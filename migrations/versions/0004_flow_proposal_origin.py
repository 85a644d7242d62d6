"""proposal origin (run, candidacy, request, direct); run_id only for a run's proposals

Revision ID: 0004
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("proposals") as batch:
        batch.add_column(sa.Column("origin", sa.String(length=12), server_default="run", nullable=False))
        batch.alter_column("run_id", existing_type=sa.Integer(), nullable=True)
        batch.create_check_constraint(
            op.f("ck_proposals_origin"), "origin IN ('run', 'candidacy', 'request', 'direct')")
        batch.create_check_constraint(op.f("ck_proposals_run_origin"), "(origin = 'run') = (run_id IS NOT NULL)")


def downgrade():
    op.execute("DELETE FROM proposals WHERE origin <> 'run'")
    with op.batch_alter_table("proposals") as batch:
        batch.drop_constraint("run_origin", type_="check")
        batch.drop_constraint("origin", type_="check")
        batch.alter_column("run_id", existing_type=sa.Integer(), nullable=False)
        batch.drop_column("origin")
