"""unit_photos: a unit's photos, re-encoded without metadata, with their caption

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "unit_photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("caption", sa.String(length=120), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("width > 0 AND height > 0", name=op.f("ck_unit_photos_size")),
        sa.CheckConstraint("position >= 0", name=op.f("ck_unit_photos_position")),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_unit_photos_unit_id_units"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_unit_photos_created_by_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_photos")),
        sa.UniqueConstraint("public_id", name=op.f("uq_unit_photos_public_id")),
    )
    op.create_index("ix_unit_photos_unit_position", "unit_photos", ["unit_id", "position"])


def downgrade():
    op.drop_index("ix_unit_photos_unit_position", table_name="unit_photos")
    op.drop_table("unit_photos")
