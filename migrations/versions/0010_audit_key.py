"""audit_events: keyed chain (key_id), actor and organisation snapshots (actor_ref, organisation_ref)

Revision ID: 0010
Revises: 0012

Existing rows are left as they are, sealed by plain SHA-256, and stay verifiable: their key_id
stays NULL, and one keyed row, `audit.key_introduced` naming the last of them ("legacy until
id N"), is appended with the key: its HMAC covers their last hash, so they cannot be rewritten
any more, and `passerelle audit verify` trusts unkeyed rows only before it (nobody can turn
keyed rows into "legacy" ones to recompute them by plain SHA-256). They are not re-sealed:
that would vouch, under the key, for whatever a writer may already have changed, and would
erase a break they hold. The key is needed only if the trail has rows: `passerelle db upgrade`
configures it. The snapshots are copied from the foreign keys, so deleting a user later leaves
the old rows verifiable too.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("actor_ref", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("organisation_ref", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("key_id", sa.String(length=16), nullable=True))
    op.execute("UPDATE audit_events SET actor_ref = CAST(actor_id AS VARCHAR(20)) WHERE actor_id IS NOT NULL")
    op.execute("UPDATE audit_events SET organisation_ref = CAST(organisation_id AS VARCHAR(20)) "
               "WHERE organisation_id IS NOT NULL")
    from services import audit

    try:
        audit.seal_legacy(op.get_bind())
    except audit.AuditKeyError as exc:
        raise RuntimeError("the audit trail has rows to seal: run `passerelle db upgrade`, which "
                           "configures PASSERELLE_AUDIT_KEY") from exc


def downgrade():
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("key_id")
        batch.drop_column("organisation_ref")
        batch.drop_column("actor_ref")
