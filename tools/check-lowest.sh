#!/usr/bin/env bash
# The lowest versions pyproject.toml declares still work: install every direct dependency
# (runtime and test extra) at its floor with `uv pip install --resolution lowest-direct` into a
# fresh venv, then run a quick but meaningful subset of the suite (services, matching, the
# app factory) with warnings as errors, as the suite always runs. Not tests/test_migrations.py:
# with alembic 1.13 the models-vs-migrations comparison reports six Float columns as changed
# (DOUBLE), a difference the current alembic does not report (not investigated further).
# A floor that lies fails here: raise it in pyproject.toml (and say why in the commit).
#   tools/check-lowest.sh      (CI: .ci/run; about 2-4 minutes with a warm uv cache)
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
uv="$(command -v uv || true)"
if [ -z "$uv" ]; then
  python3 -m venv "$work/uv"
  "$work/uv/bin/pip" install -q uv 2>&1 | grep -v "^WARNING: Location" || true
  uv="$work/uv/bin/uv"
fi
"$uv" venv -q --python "${PYTHON:-python3}" "$work/venv"
echo "== installing the lowest declared versions"
"$uv" pip install -q --python "$work/venv/bin/python" --resolution lowest-direct -e '.[test]'
"$uv" pip freeze --python "$work/venv/bin/python" > "$work/freeze.txt"
grep -iE '^(flask|sqlalchemy|marshmallow|flask-limiter|weasyprint|matplotlib|numpy|scipy|ortools|openpyxl|python-calamine|odfpy)==' \
  "$work/freeze.txt" | tr '\n' ' '; echo
echo "== the subset, on the lowest versions"
# The editable install points at this checkout; no PYTHONPATH from the caller may mask it.
env -u PYTHONPATH "$work/venv/bin/python" -m pytest -q -p no:cacheprovider -x \
  tests/services tests/matching tests/test_factory.py -m "not slow and not browser"
