"""users.role: `referrer`, a landlord's staff who may refer tenants and see nothing else

Revision ID: 0017
Revises: 0010
"""

from alembic import op

revision = "0017"
down_revision = "0010"
branch_labels = None
depends_on = None

BEFORE = ("landlord", "association", "committee", "coordinator", "admin")
AFTER = BEFORE + ("referrer",)


def _roles(values: tuple[str, ...]) -> str:
    return f"role IN ({', '.join(repr(v) for v in values)})"


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("ck_users_role"), type_="check")
        batch.create_check_constraint(op.f("ck_users_role"), _roles(AFTER))


def downgrade():
    # A referrer's account cannot keep a role the older schema does not know.
    op.execute("DELETE FROM api_tokens WHERE user_id IN (SELECT id FROM users WHERE role = 'referrer')")
    op.execute("UPDATE referrals SET created_by_id = NULL WHERE created_by_id IN "
               "(SELECT id FROM users WHERE role = 'referrer')")
    op.execute("DELETE FROM users WHERE role = 'referrer'")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("ck_users_role"), type_="check")
        batch.create_check_constraint(op.f("ck_users_role"), _roles(BEFORE))
