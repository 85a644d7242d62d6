#!/usr/bin/env bash
# Regenerate requirements.lock: the exact versions (with their hashes) a deployment installs,
# resolved by uv from pyproject.toml's runtime dependencies for CPython 3.11 on Linux x86-64
# (the Dockerfile's and Debian 12's Python). Run after changing a dependency; commit the result.
#   tools/lock.sh              (uv from PATH, else pip-installed into a throw-away venv)
set -euo pipefail
cd "$(dirname "$0")/.."
uv="$(command -v uv || true)"
if [ -z "$uv" ]; then
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  python3 -m venv "$work/venv"
  "$work/venv/bin/pip" install -q uv
  uv="$work/venv/bin/uv"
fi
"$uv" pip compile pyproject.toml --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
  --generate-hashes -o requirements.lock -q
echo "requirements.lock: $(grep -c '^[a-z0-9]' requirements.lock) pinned packages"
