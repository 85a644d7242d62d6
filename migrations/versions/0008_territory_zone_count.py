"""households.exclusion_zone_count: how many zones she has, readable without decrypting them

Revision ID: 0008
Revises: 0002
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("households") as batch:
        batch.add_column(sa.Column("exclusion_zone_count", sa.Integer(), nullable=True))
    # Existing rows: counted when the data key is configured (as `passerelle db upgrade` does);
    # otherwise left NULL ("unknown"), and counted again at the next write of her zones.
    from models import crypto

    try:
        crypto._get()
    except crypto.DataKeyError:
        return
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, exclusion_zones FROM households")).all()
    for household_id, token in rows:
        try:
            zones = json.loads(crypto.decrypt(token)) if token else []
        except (crypto.DataKeyError, ValueError):
            continue
        bind.execute(sa.text("UPDATE households SET exclusion_zone_count = :n WHERE id = :id"),
                     {"n": len(zones or []), "id": household_id})


def downgrade():
    with op.batch_alter_table("households") as batch:
        batch.drop_column("exclusion_zone_count")
