"""api_tokens.expires_at: API tokens expire

Revision ID: 0002
Revises: 0005

Tokens made before this revision keep a NULL expiry (they work until revoked); revoke
them from the account page or re-create them to give them one.
"""

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = "0002"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("expires_at", UTCDateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("expires_at")
