#!/usr/bin/env bash
# Extract the French msgids, merge them into the English catalogue, compile it.
# Fill the new empty msgstr of web/translations/en/LC_MESSAGES/messages.po, then run again.
set -euo pipefail
cd "$(dirname "$0")/.."
pot=web/translations/messages.pot
mkdir -p web/translations
pybabel extract -F babel.cfg -k _l -k lazy_gettext -k ngettext:1,2 --no-location --sort-output \
  --project Passerelle -o "$pot" .
if [ -f web/translations/en/LC_MESSAGES/messages.po ]; then
  pybabel update -i "$pot" -d web/translations -l en --no-fuzzy-matching
else
  pybabel init -i "$pot" -d web/translations -l en
fi
pybabel compile -d web/translations
