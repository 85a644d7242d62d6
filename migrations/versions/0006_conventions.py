"""conventions, commitments, training records, quarter snapshots; units.temporary

Revision ID: 0006
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "conventions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("parties", sa.JSON(), nullable=False),
        sa.Column("funders", sa.JSON(), nullable=False),
        sa.Column("departments", sa.JSON(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("ends_on > starts_on", name=op.f("ck_conventions_span")),
        sa.CheckConstraint("length(title) > 0", name=op.f("ck_conventions_title_present")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_conventions_created_by_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conventions")),
        sa.UniqueConstraint("title", name=op.f("uq_conventions_title")),
    )
    op.create_table(
        "commitments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("convention_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("target", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('units_posted', 'rehousings_on_request', 'shared_home_moves', 'emergency_places', "
            "'staff_trained')", name=op.f("ck_commitments_kind")),
        sa.CheckConstraint("target >= 0 AND target <= 100000", name=op.f("ck_commitments_target_range")),
        sa.CheckConstraint("year >= 2000 AND year <= 2100", name=op.f("ck_commitments_year_range")),
        sa.ForeignKeyConstraint(["convention_id"], ["conventions.id"],
                                name=op.f("fk_commitments_convention_id_conventions"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"],
                                name=op.f("fk_commitments_organisation_id_organisations"), ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commitments")),
        sa.UniqueConstraint("convention_id", "organisation_id", "year", "kind",
                            name=op.f("uq_commitments_convention_id_organisation_id_year_kind")),
    )
    op.create_index(op.f("ix_commitments_convention_id"), "commitments", ["convention_id"])
    op.create_index(op.f("ix_commitments_organisation_id"), "commitments", ["organisation_id"])
    op.create_table(
        "training_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("convention_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("persons", sa.Integer(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("persons >= 1 AND persons <= 1000", name=op.f("ck_training_records_persons_range")),
        sa.ForeignKeyConstraint(["convention_id"], ["conventions.id"],
                                name=op.f("fk_training_records_convention_id_conventions"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"],
                                name=op.f("fk_training_records_organisation_id_organisations"),
                                ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["users.id"],
                                name=op.f("fk_training_records_recorded_by_id_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_records")),
    )
    op.create_index(op.f("ix_training_records_convention_id"), "training_records", ["convention_id"])
    op.create_index(op.f("ix_training_records_organisation_id"), "training_records", ["organisation_id"])
    op.create_table(
        "quarter_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.String(length=7), nullable=False),
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("frozen_at", UTCDateTime(), nullable=False),
        sa.Column("frozen_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("quarter LIKE '____-Q_'", name=op.f("ck_quarter_snapshots_quarter_format")),
        sa.ForeignKeyConstraint(["frozen_by_id"], ["users.id"],
                                name=op.f("fk_quarter_snapshots_frozen_by_id_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarter_snapshots")),
        sa.UniqueConstraint("quarter", "scope", name=op.f("uq_quarter_snapshots_quarter_scope")),
    )
    with op.batch_alter_table("units") as batch:
        batch.add_column(sa.Column("temporary", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table("units") as batch:
        batch.drop_column("temporary")
    op.drop_table("quarter_snapshots")
    op.drop_index(op.f("ix_training_records_organisation_id"), table_name="training_records")
    op.drop_index(op.f("ix_training_records_convention_id"), table_name="training_records")
    op.drop_table("training_records")
    op.drop_index(op.f("ix_commitments_organisation_id"), table_name="commitments")
    op.drop_index(op.f("ix_commitments_convention_id"), table_name="commitments")
    op.drop_table("commitments")
    op.drop_table("conventions")
