"""moves out of a shared home: households.current_home, referrals.site and referrals.is_tenant

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

from models.base import EncryptedJSON

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("households") as batch:
        batch.add_column(sa.Column("current_home", EncryptedJSON(), nullable=True))
    with op.batch_alter_table("referrals") as batch:
        batch.add_column(sa.Column("site", sa.String(length=80), nullable=True))
        batch.add_column(sa.Column("is_tenant", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table("referrals") as batch:
        batch.drop_column("is_tenant")
        batch.drop_column("site")
    with op.batch_alter_table("households") as batch:
        batch.drop_column("current_home")
