#!/usr/bin/env bash
# Until the first release the schema is one revision: regenerate it from the models.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
rm -f migrations/versions/*.py
DATABASE_URL="sqlite:///$tmp/empty.sqlite" PASSERELLE_DATA_KEY=$(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())') \
  SECRET_KEY=regen passerelle db migrate -m "initial schema" --rev-id 0001
rm -rf "$tmp"
ruff format -q migrations/versions || true
