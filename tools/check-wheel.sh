#!/usr/bin/env bash
# Build the wheel, install it (not editable) in a fresh venv, and use it as an administrator
# would, away from the checkout: `passerelle --help`, `db upgrade` (then the schema is
# compared with the models), `demo --no-serve`, and the common-password check.
#   tools/check-wheel.sh            (CI: .ci/run)
# Dependencies come from pip's cache (a few seconds when CI's own venv was just installed);
# PASSERELLE_WHEEL_FIND_LINKS=<folder of wheels> adds a local wheelhouse for offline runs.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
python="${PYTHON:-python3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "== building the wheel"
"$python" -m pip wheel -q --no-deps -w "$work/dist" . >/dev/null
rm -rf build ./*.egg-info
wheel="$(ls "$work"/dist/passerelle-*.whl)"
for member in migrations/env.py migrations/alembic.ini migrations/versions/0001_initial_schema.py \
              services/common_passwords.txt matching/data/communes.csv.gz; do
  unzip -l "$wheel" "$member" >/dev/null || { echo "!! $member is missing from $wheel" >&2; exit 1; }
done

echo "== installing it in a fresh venv"
"$python" -m venv "$work/venv"
extra=()
[ -n "${PASSERELLE_WHEEL_FIND_LINKS:-}" ] && extra=(--find-links "$PASSERELLE_WHEEL_FIND_LINKS")
"$work/venv/bin/pip" install -q --disable-pip-version-check "${extra[@]}" "$wheel" 2>&1 \
  | grep -v "^WARNING: Location .* is ignored" || true
[ -x "$work/venv/bin/passerelle" ] || { echo "!! the wheel did not install" >&2; exit 1; }

# Away from the checkout: nothing may come from $repo.
cd "$work"
export PASSERELLE_INSTANCE_PATH="$work/instance" DATABASE_URL="sqlite:///$work/passerelle.sqlite"
unset PYTHONPATH
bin="$work/venv/bin"
"$bin/python" - "$repo" <<'PY'
import sys, web, migrations, services
for module in (web, migrations, services):
    assert not module.__file__.startswith(sys.argv[1]), f"{module.__name__} comes from the checkout"
PY
echo "== passerelle --help"
"$bin/passerelle" --help >/dev/null
echo "== passerelle db upgrade, then the schema equals the models"
"$bin/passerelle" db upgrade
"$bin/python" - <<'PY'
import os
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
import models
engine = sa.create_engine(os.environ["DATABASE_URL"])
with engine.connect() as conn:
    diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), models.Base.metadata)
assert diff == [], diff
print(f"schema: {len(models.Base.metadata.tables)} tables, as the models say")
PY
echo "== passerelle demo --no-serve"
# (Output kept whole: `| grep -q` would close the pipe early and fail the command.)
first="$("$bin/passerelle" demo --no-serve)"
grep -q "Demo data loaded." <<<"$first"
second="$("$bin/passerelle" demo --no-serve)"
grep -q "Demo data already there." <<<"$second"
echo "== the common-password check"
"$bin/python" - <<'PY'
from services.accounts import check_password_policy, is_common_password
assert is_common_password("azertyuiop123")
try:
    check_password_policy("azertyuiop123")
except Exception as error:
    print(f"azertyuiop123 refused: {error}")
else:
    raise SystemExit("azertyuiop123 was accepted")
PY
echo "== the wheel works"
