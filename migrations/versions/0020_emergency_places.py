"""emergency and temporary places: units.max_stay_days and the placements table

A unit already marked `temporary` (none is, in the pages of earlier versions: only the
API's tests set it) gets the default stay of 90 days, so the new rule holds at once.

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

# Written out, not imported: a migration keeps the rule of its own day.
TEMPORARY_RULE = ("(temporary AND max_stay_days IS NOT NULL AND max_stay_days BETWEEN 1 AND 730) "
                  "OR (NOT temporary AND max_stay_days IS NULL)")
OPEN = "ended_on IS NULL"


def upgrade():
    with op.batch_alter_table("units") as batch:
        batch.add_column(sa.Column("max_stay_days", sa.Integer(), nullable=True))
    op.execute("UPDATE units SET max_stay_days = 90 WHERE temporary")
    with op.batch_alter_table("units") as batch:
        batch.create_check_constraint(op.f("ck_units_max_stay"), TEMPORARY_RULE)
    op.create_table(
        "placements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("department", sa.String(length=3), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("planned_end_on", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("end_reason", sa.String(length=16), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("planned_end_on > started_on", name=op.f("ck_placements_planned_after_start")),
        sa.CheckConstraint("ended_on IS NULL OR ended_on >= started_on",
                           name=op.f("ck_placements_end_after_start")),
        sa.CheckConstraint("(ended_on IS NULL) = (end_reason IS NULL)", name=op.f("ck_placements_end_has_reason")),
        sa.CheckConstraint("end_reason IS NULL OR end_reason IN ('rehoused', 'left', 'stay_ended', 'other')",
                           name=op.f("ck_placements_end_reason")),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], ondelete="RESTRICT",
                                name=op.f("fk_placements_unit_id_units")),
        sa.ForeignKeyConstraint(["household_id"], ["households.id"], ondelete="CASCADE",
                                name=op.f("fk_placements_household_id_households")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_placements_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_placements")),
        sa.UniqueConstraint("public_id", name=op.f("uq_placements_public_id")),
    )
    op.create_index(op.f("ix_placements_unit_id"), "placements", ["unit_id"])
    op.create_index(op.f("ix_placements_household_id"), "placements", ["household_id"])
    op.create_index("ix_placements_department_started", "placements", ["department", "started_on"])
    op.create_index("uq_placements_open_unit", "placements", ["unit_id"], unique=True,
                    sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))
    op.create_index("uq_placements_open_household", "placements", ["household_id"], unique=True,
                    sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))


def downgrade():
    op.drop_table("placements")
    with op.batch_alter_table("units") as batch:
        batch.drop_constraint(op.f("ck_units_max_stay"), type_="check")
        batch.drop_column("max_stay_days")
