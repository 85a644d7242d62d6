#!/usr/bin/env bash
# Install Passerelle with its test extra into .venv, then run the whole test suite.
#   ./run-tests.sh                 on SQLite (the embedded default)
#   TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/passerelle_test ./run-tests.sh
# Extra arguments go to pytest (e.g. ./run-tests.sh -k login -x).
set -euo pipefail
cd "$(dirname "$0")"

# The browser tests drive Debian's Chromium; PDF checks read text with poppler's pdftotext;
# the deployment test puts Debian's nginx in front of gunicorn (on PostgreSQL).
if ! { [ -x /usr/bin/chromium ] && command -v pdftotext >/dev/null && [ -x /usr/sbin/nginx ]; }; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing chromium, poppler-utils and nginx (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq chromium poppler-utils nginx >/dev/null
  else
    echo "!! install chromium, poppler-utils and nginx (e.g. sudo apt-get install chromium poppler-utils nginx)" >&2
  fi
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
exec .venv/bin/python -m pytest "$@"
