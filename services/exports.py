"""One rule for every spreadsheet the platform writes (XLSX and CSV): text is never a formula.

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (or
their full-width forms, which some spreadsheet software folds to ASCII) is read by Excel
and LibreOffice as a formula: an organisation named ``=HYPERLINK("https://evil", "x")`` or a
follow-up action typed by a committee member would run in the reader's spreadsheet. Every
writer (``services.reports``, ``services.imports.write_csv``/``write_xlsx``) passes each value
through :func:`safe_cell`, which prefixes such text with an apostrophe, the mark
spreadsheets show as "text"; numbers and numeric text (``-12,5``) are kept as they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

# ASCII triggers, then their full-width forms (U+FF1D =, U+FF0B +, U+FF0D -, U+FF20 @).
FORMULA_TRIGGERS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
# A plain number as our displays write it ("-12,5", "- 3", "1 234", "12,5 %"): not a formula.
_NUMBER = re.compile(r"^[-+]?[\s\u00a0\u202f]*\d[\d\s\u00a0\u202f.,]*%?$")


def safe_cell(value: Any) -> Any:
    """The value to write into a spreadsheet cell: text that a spreadsheet would run, made inert."""
    if not isinstance(value, str) or not value:
        return value
    stripped = value.lstrip(" \u00a0")
    if stripped and stripped[0] in FORMULA_TRIGGERS and not _NUMBER.match(stripped):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    """A row of :func:`safe_cell` values."""
    return [safe_cell(v) for v in values]
