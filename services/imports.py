"""Reading spreadsheets (CSV or XLSX) and the French ways of writing their cells.

Generic: nothing here knows units or households. A caller gives the columns it knows
(`Column`, with their French and English header names), gets back `Row`s of raw cells
keyed by field, converts them with `parse_*`, and reports errors by spreadsheet line
(the header is line 1) and by the column's header as written in the file.

CSV: `;` or `,` (detected on the header line), UTF-8 with or without BOM, or
Windows-1252 (what Excel for Windows saves). XLSX: the first sheet. Old `.xls` and
`.ods` files are refused with a hint to save as XLSX or CSV.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l

from services import numbers
from services.errors import ValidationError
from services.exports import safe_row

MAX_ROWS = 5000
MAX_XLSX_UNPACKED = 20 * 1024 * 1024
# No import has more than a few dozen columns; a sheet wider than this is refused. The
# sheet's own <dimension> is ignored: a 1.5 KB file claiming A1:XFD1048576 made openpyxl
# pad every row to 16,384 cells (seconds of CPU, hundreds of MB per request).
MAX_COLUMNS = 100

TRUE_WORDS = frozenset({"oui", "o", "yes", "y", "1", "vrai", "true", "x"})
FALSE_WORDS = frozenset({"non", "n", "no", "0", "faux", "false"})
_DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y")


# -- cells --------------------------------------------------------------------------------

# Numbers: one parser for imports, forms and the API (services.numbers).
parse_decimal = numbers.parse_decimal
parse_int = numbers.parse_int


def is_blank(value: object) -> bool:
    """True for a missing or empty cell."""
    return value is None or (isinstance(value, str) and not value.strip())


def parse_bool(value: object) -> bool:
    """oui/non, yes/no, vrai/faux, true/false, 1/0 (any case), or a real boolean.

    :raise ValueError: anything else.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal) and value in (0, 1):
        return bool(value)
    word = _fold(str(value)).strip()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(value)


def parse_date(value: object) -> dt.date:
    """JJ/MM/AAAA, AAAA-MM-JJ, or a spreadsheet date.

    :raise ValueError: not a date, or a date that does not exist (30/02/2026).
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    # "2026-12-01T00:00:00" from some exports.
    try:
        return dt.datetime.fromisoformat(text).date()
    except ValueError:
        pass
    raise ValueError(value)


# -- tables -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A column a caller knows: its field, and every header that names it (any case/accents)."""

    field: str
    headers: tuple[str, ...]
    required: bool = False


@dataclass
class Row:
    """One line of the file: its spreadsheet line number and its cells keyed by field."""

    line: int
    cells: dict[str, Any]


@dataclass(frozen=True)
class RowError:
    """What is wrong, where: line (header = 1), the column's header as in the file, why."""

    line: int
    column: str | None
    message: Any

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "message": str(self.message)}


class ImportRejected(ValidationError):
    """A file refused as a whole, with every error found (nothing was stored)."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        self.rows = sorted(errors, key=lambda e: (e.line, e.column or ""))
        super().__init__(
            {"file": [_l("Le fichier comporte %(n)d erreur(s) : rien n'a été enregistré.",
                         n=len(self.rows))]}
        )


@dataclass
class Table:
    """A spreadsheet read: the header as written, which field each column holds, the rows."""

    headers: list[str]
    fields: dict[str, str] = field(default_factory=dict)  # field -> header as written
    rows: list[Row] = field(default_factory=list)

    def header_of(self, field_name: str) -> str:
        """The header of this field's column as the file writes it (the field name if absent)."""
        return self.fields.get(field_name, field_name)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.strip().lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # Excel for Windows saves "CSV (séparateur : point-virgule)" in Windows-1252.
        return data.decode("cp1252", errors="replace")


def _csv_cells(data: bytes) -> list[list[str]]:
    text = _decode(data)
    if "\x00" in text:
        raise ValidationError(_l("Ce fichier n'est pas un fichier CSV lisible."), field="file")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    return [list(r) for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]


def _xlsx_cells(data: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise ValidationError(_l("Ce fichier XLSX est illisible."), field="file") from exc
    if unpacked > MAX_XLSX_UNPACKED:
        # A small file that unpacks to gigabytes would exhaust the server's memory.
        raise ValidationError(_l("Ce fichier XLSX est trop volumineux une fois décompressé."), field="file")
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ValidationError(_l("Ce fichier XLSX est illisible."), field="file") from exc
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # the cells present, never the size the file claims
        rows: list[list[Any]] = []
        for values in sheet.iter_rows(values_only=True):
            if len(values) > MAX_COLUMNS:  # a cell far right: refused at its first row
                raise ValidationError(
                    _l("Le fichier a plus de %(n)d colonnes : gardez seulement celles du modèle.", n=MAX_COLUMNS),
                    field="file",
                )
            rows.append(list(values))
            if len(rows) > MAX_ROWS + 1:
                break
        return rows
    finally:
        workbook.close()


def _cells(filename: str, data: bytes) -> list[list[Any]]:
    name = (filename or "").lower()
    if data.startswith(b"PK\x03\x04"):
        if name.endswith(".ods"):
            raise ValidationError(
                _l("Les fichiers ODS ne sont pas lus : enregistrez-le en XLSX ou en CSV."), field="file"
            )
        return _xlsx_cells(data)
    if data.startswith(b"\xd0\xcf\x11\xe0") or name.endswith(".xls"):
        raise ValidationError(
            _l("Les anciens fichiers Excel (.xls) ne sont pas lus : enregistrez-le en XLSX ou en CSV."),
            field="file",
        )
    return _csv_cells(data)


def read_table(filename: str, data: bytes, columns: Iterable[Column]) -> Table:
    """Read a spreadsheet whose first line names the columns.

    Empty lines are skipped (their numbers still count). Every header must be known, a
    column may appear only once, and required columns must be there.

    :raise ValidationError: empty or unreadable file, more than MAX_ROWS rows.
    :raise ImportRejected: unknown, repeated or missing columns (reported on line 1).
    """
    if not data:
        raise ValidationError(_l("Le fichier est vide."), field="file")
    cells = _cells(filename, data)
    while cells and all(is_blank(c) for c in cells[-1]):
        cells.pop()
    if not cells:
        raise ValidationError(_l("Le fichier est vide."), field="file")
    columns = list(columns)
    by_header = {_fold(h): col for col in columns for h in (col.field, *col.headers)}
    headers = ["" if h is None else str(h).strip() for h in cells[0]]
    table = Table(headers=headers)
    errors: list[RowError] = []
    positions: dict[int, str] = {}
    for index, header in enumerate(headers):
        if not header:
            continue
        col = by_header.get(_fold(header))
        if col is None:
            errors.append(RowError(1, header, _l("Colonne inconnue : %(header)s.", header=header)))
        elif col.field in table.fields:
            errors.append(RowError(1, header, _l("Colonne en double : %(header)s.", header=header)))
        else:
            table.fields[col.field] = header
            positions[index] = col.field
    for col in columns:
        if col.required and col.field not in table.fields:
            errors.append(RowError(1, col.headers[0] if col.headers else col.field,
                                   _l("Colonne obligatoire absente : %(header)s.",
                                      header=col.headers[0] if col.headers else col.field)))
    if errors:
        raise ImportRejected(errors)

    body = cells[1:]
    if sum(1 for r in body if not all(is_blank(c) for c in r)) > MAX_ROWS:
        raise ValidationError(
            _l("Le fichier dépasse %(n)d lignes : découpez-le en plusieurs fichiers.", n=MAX_ROWS),
            field="file",
        )
    for offset, values in enumerate(body):
        if all(is_blank(c) for c in values):
            continue
        row = Row(line=offset + 2, cells={})
        for index, value in enumerate(values):
            if index in positions:
                row.cells[positions[index]] = value.strip() if isinstance(value, str) else value
            elif not is_blank(value):
                errors.append(RowError(row.line, None,
                                       _l("Valeur hors de toute colonne (colonne n° %(n)d).", n=index + 1)))
        table.rows.append(row)
    if errors:
        raise ImportRejected(errors)
    if not table.rows:
        raise ValidationError(_l("Le fichier ne contient aucune ligne après l'en-tête."), field="file")
    return table


def write_csv(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """A CSV that Excel opens right in French: `;`, UTF-8 with BOM, CRLF."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(safe_row(headers))
    writer.writerows(safe_row(row) for row in rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def write_xlsx(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str = "Feuille1",
               notes: Sequence[str] = ()) -> bytes:
    """An XLSX workbook: the table on the first sheet, optional notes on a second one."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    sheet.append(safe_row(headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(safe_row(row))
    for index, header in enumerate(headers, start=1):
        sheet.column_dimensions[sheet.cell(1, index).column_letter].width = max(12, len(header) + 2)
    if notes:
        help_sheet = workbook.create_sheet("Aide")
        for note in notes:
            help_sheet.append(safe_row([note]))
        help_sheet.column_dimensions["A"].width = 110
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
