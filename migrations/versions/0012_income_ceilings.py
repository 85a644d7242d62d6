"""income_ceilings: the yearly income-ceiling tables an operator loads

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "income_ceilings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("financing", sa.String(length=8), nullable=False),
        sa.Column("zone", sa.String(length=8), nullable=False),
        sa.Column("category_1", sa.Integer(), nullable=False),
        sa.Column("category_2", sa.Integer(), nullable=False),
        sa.Column("category_3", sa.Integer(), nullable=False),
        sa.Column("category_4", sa.Integer(), nullable=False),
        sa.Column("category_5", sa.Integer(), nullable=False),
        sa.Column("category_6", sa.Integer(), nullable=False),
        sa.Column("per_extra_person", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("loaded_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("financing IN ('PLAI', 'PLUS', 'PLS')", name=op.f("ck_income_ceilings_financing")),
        sa.CheckConstraint("zone IN ('paris', 'idf', 'other')", name=op.f("ck_income_ceilings_zone")),
        sa.CheckConstraint("year >= 2000 AND year <= 2100", name=op.f("ck_income_ceilings_year_range")),
        sa.CheckConstraint(
            "category_1 >= 0 AND category_2 >= 0 AND category_3 >= 0 AND category_4 >= 0 "
            "AND category_5 >= 0 AND category_6 >= 0 AND per_extra_person >= 0",
            name=op.f("ck_income_ceilings_amounts_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_income_ceilings")),
        sa.UniqueConstraint("year", "financing", "zone", name=op.f("uq_income_ceilings_year_financing_zone")),
    )


def downgrade():
    op.drop_table("income_ceilings")
