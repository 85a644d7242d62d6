"""Reading spreadsheets (CSV or XLSX) and the French ways of writing their cells.

Generic: nothing here knows units or households. A caller gives the columns it knows
(`Column`, with their French and English header names), gets back `Row`s of raw cells
keyed by field, converts them with `parse_*`, and reports errors by spreadsheet line
(the header is line 1) and by the column's header as written in the file.

CSV: `;` or `,` (detected on the header line), UTF-8 with or without BOM, or
Windows-1252 (what Excel for Windows saves). XLSX (openpyxl, streamed), old Excel `.xls`
and LibreOffice `.ods` (python-calamine): the first sheet. One reader per format
(`_csv_cells`, `_xlsx_cells`, `_xls_cells`, `_ods_cells`), each bounded by MAX_ROWS and
MAX_COLUMNS, and the zipped formats by MAX_XLSX_UNPACKED.

calamine loads a whole sheet into one dense grid sized by its furthest filled cell: a
5 KB `.xls` with one cell at IV65536 took 1 GB, and an ODS cell repeated 50,000 × 1,000
times made it abort the process (a Rust allocation failure cannot be caught). So before
calamine sees a file, `_xls_extent`/`_ods_extent` find how far its filled cells reach by
walking the records (BIFF) or the XML (ODS, streamed, repeats counted, never expanded),
and a file beyond the limits is refused there.

And every file is parsed in a bounded child (services/bounded.py, PARSE_MEMORY, PARSE_CPU_SECONDS,
PARSE_TIMEOUT): a file the pre-checks do not foresee ends that child, never the web worker.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import struct
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from xml.etree import ElementTree

from flask_babel import lazy_gettext as _l

from services import bounded, numbers
from services.errors import ValidationError
from services.exports import safe_cell, safe_row

MAX_ROWS = 5000
MAX_XLSX_UNPACKED = 20 * 1024 * 1024
# No import has more than a few dozen columns; a sheet wider than this is refused. The
# sheet's own <dimension> is ignored: a 1.5 KB file claiming A1:XFD1048576 made openpyxl
# pad every row to 16,384 cells (seconds of CPU, hundreds of MB per request).
MAX_COLUMNS = 100
# The bounds of the child that parses a file. A legitimate 5,000-row sheet needs about 200 MB
# and 3 s; the fork server's child starts at 180 MB of address space.
PARSE_MEMORY = 1024 * 1024 * 1024
PARSE_CPU_SECONDS = 10
PARSE_TIMEOUT = 20.0

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
            return dt.datetime.strptime(text, fmt).date()  # noqa: DTZ007 (a calendar date, no instant)
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
    rows: list[list[str]] = []
    filled = 0
    blank: list[str] = []  # one shared list for every blank line: ten million of them stay small
    for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
        if len(row) > MAX_COLUMNS:
            raise _too_many_columns()
        if all(is_blank(c) for c in row):
            rows.append(blank)
            continue
        filled += 1
        if filled > MAX_ROWS + 1:  # the header and MAX_ROWS lines
            raise _too_many_rows()
        rows.append(row)
    return rows


def _check_unpacked(data: bytes, kind: str) -> None:
    """Refuse a zipped file (XLSX, ODS) that is not a zip, or that unpacks beyond MAX_XLSX_UNPACKED."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise ValidationError(_l("Ce fichier %(kind)s est illisible.", kind=kind), field="file") from exc
    if unpacked > MAX_XLSX_UNPACKED:
        # A small file that unpacks to gigabytes would exhaust the server's memory.
        raise ValidationError(_l("Ce fichier %(kind)s est trop volumineux une fois décompressé.", kind=kind),
                              field="file")


def _too_many_columns() -> ValidationError:
    return ValidationError(
        _l("Le fichier a plus de %(n)d colonnes : gardez seulement celles du modèle.", n=MAX_COLUMNS), field="file"
    )


def _too_many_rows() -> ValidationError:
    return ValidationError(
        _l("Le fichier dépasse %(n)d lignes : découpez-le en plusieurs fichiers.", n=MAX_ROWS), field="file"
    )


def _check_extent(rows: int, columns: int) -> None:
    """Refuse a sheet whose filled cells reach beyond the limits (blank lines count, as in XLSX)."""
    if columns > MAX_COLUMNS:
        raise _too_many_columns()
    if rows > MAX_ROWS + 1:
        raise _too_many_rows()


def _xlsx_cells(data: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook

    _check_unpacked(data, "XLSX")
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
                raise _too_many_columns()
            rows.append(list(values))
            if len(rows) > MAX_ROWS + 1:
                break
        return rows
    finally:
        workbook.close()


# BIFF records that hold a value at (row, column), BIFF2 to BIFF8 (blank cells, which
# calamine leaves out, are not counted): FORMULA (three versions), NUMBER, LABEL, BOOLERR,
# RK, RSTRING, LABELSST, INTEGER (BIFF2), and MULRK (several columns of one row).
_BIFF_CELLS = frozenset({0x0006, 0x0206, 0x0406, 0x0002, 0x0003, 0x0004, 0x0005,
                         0x0203, 0x0204, 0x0205, 0x027E, 0x00D6, 0x00FD})
_BIFF_MULRK, _BIFF_BOUNDSHEET, _BIFF_EOF = 0x00BD, 0x0085, 0x000A


def _xls_extent(data: bytes) -> tuple[int, int]:
    """(rows, columns) reached by the filled cells of the first sheet of an `.xls` file."""
    import olefile

    try:
        with olefile.OleFileIO(data) as ole:
            name = "Workbook" if ole.exists("Workbook") else "Book"
            stream = ole.openstream(name).read()
    except (OSError, ValueError) as exc:  # olefile raises OSError on a damaged container
        raise ValidationError(_l("Ce fichier XLS est illisible."), field="file") from exc

    def records(start: int) -> Iterable[tuple[int, bytes]]:
        pos = start
        while pos + 4 <= len(stream):
            kind, length = struct.unpack_from("<HH", stream, pos)
            yield kind, stream[pos + 4:pos + 4 + length]
            pos += 4 + length

    # The first BOUNDSHEET record gives the first sheet's offset in the stream (calamine's sheet 0).
    sheet_at = next((struct.unpack_from("<I", body)[0] for kind, body in records(0)
                     if kind == _BIFF_BOUNDSHEET and len(body) >= 4), None)
    if sheet_at is None:
        raise ValidationError(_l("Ce fichier XLS est illisible."), field="file")
    rows = columns = 0
    for index, (kind, body) in enumerate(records(sheet_at)):
        if kind == _BIFF_EOF and index:
            break
        if (kind in _BIFF_CELLS and len(body) >= 4) or (kind == _BIFF_MULRK and len(body) >= 6):
            row, first = struct.unpack_from("<HH", body)
            last = struct.unpack_from("<H", body, len(body) - 2)[0] if kind == _BIFF_MULRK else first
            rows, columns = max(rows, row + 1), max(columns, last + 1)
    return rows, columns


def _ods_extent(data: bytes) -> tuple[int, int]:
    """(rows, columns) reached by the filled cells of the first table of an `.ods` file.

    Streamed, repeats counted and never expanded; defusedxml refuses entities (no XML bomb).
    """
    from defusedxml.ElementTree import iterparse

    table_ns = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
    office_ns = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
    table, row_tag = f"{{{table_ns}}}table", f"{{{table_ns}}}table-row"
    cell_tags = {f"{{{table_ns}}}table-cell", f"{{{table_ns}}}covered-table-cell"}
    rows_repeated, columns_repeated = f"{{{table_ns}}}number-rows-repeated", f"{{{table_ns}}}number-columns-repeated"
    value_type = f"{{{office_ns}}}value-type"

    def repeat(element: Any, attribute: str) -> int:
        try:
            return max(1, int(element.get(attribute, "1")))
        except ValueError:
            return 1

    rows = columns = 0
    row_index = 0  # rows before the current one
    row_width = 0  # columns before the current cell
    row_filled_to = 0  # columns reached by the current row's filled cells
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open("content.xml") as content:
            for event, element in iterparse(content, events=("start", "end")):
                tag = element.tag
                if event == "start":
                    if tag == row_tag:
                        row_width = row_filled_to = 0
                    continue
                if tag in cell_tags:
                    span = repeat(element, columns_repeated)
                    if element.get(value_type) is not None or len(element):
                        row_filled_to = row_width + span
                    row_width += span
                    element.clear()
                elif tag == row_tag:
                    span = repeat(element, rows_repeated)
                    if row_filled_to:
                        rows, columns = row_index + span, max(columns, row_filled_to)
                    row_index += span
                    element.clear()
                    if rows > MAX_ROWS + 1 or columns > MAX_COLUMNS:
                        break  # refused anyway: no need to read on
                elif tag == table:
                    break  # calamine reads the first table only
    except (KeyError, zipfile.BadZipFile, ElementTree.ParseError, ValueError) as exc:
        # defusedxml's refusals (an entity, a DTD) are ValueErrors too.
        raise ValidationError(_l("Ce fichier ODS est illisible."), field="file") from exc
    return rows, columns


def _calamine_cells(data: bytes, kind: str) -> list[list[Any]]:
    """The first sheet's cells by calamine, once the caller has checked how far they reach."""
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        try:
            sheet = workbook.get_sheet_by_index(0)
            # skip_empty_area=False: the grid starts at A1, so line numbers are the file's.
            values = sheet.to_python(skip_empty_area=False, nrows=MAX_ROWS + 2)
        finally:
            workbook.close()
    except (CalamineError, OSError, ValueError) as exc:
        raise ValidationError(_l("Ce fichier %(kind)s est illisible.", kind=kind), field="file") from exc
    # calamine writes an empty cell as "": the other readers give None.
    return [[None if value == "" else value for value in row] for row in values]


def _xls_cells(data: bytes) -> list[list[Any]]:
    _check_extent(*_xls_extent(data))
    return _calamine_cells(data, "XLS")


def _ods_cells(data: bytes) -> list[list[Any]]:
    _check_unpacked(data, "ODS")
    _check_extent(*_ods_extent(data))
    return _calamine_cells(data, "ODS")


def _cells(filename: str, data: bytes) -> list[list[Any]]:
    name = (filename or "").lower()
    if data.startswith(b"PK\x03\x04"):
        # Both are zips: the file's own mimetype member says which (LibreOffice writes it first).
        if name.endswith(".ods") or data[30:73] == b"mimetypeapplication/vnd.oasis.opendocument.":
            return _ods_cells(data)
        return _xlsx_cells(data)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return _xls_cells(data)
    if name.endswith((".xls", ".ods")):
        raise ValidationError(_l("Ce fichier n'est pas un tableur lisible (XLSX, XLS, ODS ou CSV)."), field="file")
    return _csv_cells(data)


def _cells_with_limits(filename: str, data: bytes, limits: dict[str, int]) -> list[list[Any]]:
    """`_cells` under the caller's limits: the child's copy of this module gets them first.

    The child is a throwaway process forked from the fork server, whose module was imported
    once: the limits as the caller reads them now (a deployment's, a test's) travel with the call.
    """
    globals().update(limits)
    return _cells(filename, data)


def _cells_bounded(filename: str, data: bytes) -> list[list[Any]]:
    """`_cells` in a bounded child: a file past the bounds is refused, the caller lives on."""
    limits = {"MAX_ROWS": MAX_ROWS, "MAX_COLUMNS": MAX_COLUMNS, "MAX_XLSX_UNPACKED": MAX_XLSX_UNPACKED}
    try:
        return bounded.run(_cells_with_limits, filename, data, limits, memory_bytes=PARSE_MEMORY,
                           cpu_seconds=PARSE_CPU_SECONDS, timeout=PARSE_TIMEOUT)
    except bounded.Exhausted as exc:
        raise ValidationError(
            _l("Ce fichier demande trop de mémoire ou de temps pour être lu : enregistrez-le à nouveau "
               "depuis votre tableur (ou en CSV) et réessayez."), field="file") from exc


def read_table(filename: str, data: bytes, columns: Iterable[Column]) -> Table:
    """Read a spreadsheet whose first line names the columns.

    Empty lines are skipped (their numbers still count). Every header must be known, a
    column may appear only once, and required columns must be there.

    :raise ValidationError: empty or unreadable file, more than MAX_ROWS rows.
    :raise ImportRejected: unknown, repeated or missing columns (reported on line 1).
    """
    if not data:
        raise ValidationError(_l("Le fichier est vide."), field="file")
    cells = _cells_bounded(filename, data)
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


def write_ods(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str = "Feuille1",
              notes: Sequence[str] = ()) -> bytes:
    """An ODS spreadsheet (LibreOffice's own format), laid out like `write_xlsx`.

    Numbers are written as numbers, dates as dates, booleans as booleans, everything else as
    text through `safe_cell` (never a formula: odfpy writes no `table:formula`, and the
    apostrophe keeps LibreOffice from reading "=…" typed back in as one).
    """
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.style import Style, TableColumnProperties, TextProperties
    from odf.table import Table as OdsTable
    from odf.table import TableCell, TableColumn, TableRow
    from odf.text import P

    document = OpenDocumentSpreadsheet()
    bold = Style(name="bold", family="table-cell")
    bold.addElement(TextProperties(fontweight="bold"))
    document.automaticstyles.addElement(bold)

    def cell(value: Any, style: Style | None = None) -> TableCell:
        value = safe_cell(value)
        extra = {"stylename": style} if style is not None else {}
        if value is None or value == "":
            return TableCell(**extra)
        if isinstance(value, bool):
            element = TableCell(valuetype="boolean", booleanvalue="true" if value else "false", **extra)
            text = "VRAI" if value else "FAUX"
        elif isinstance(value, int | float | Decimal):
            element = TableCell(valuetype="float", value=str(value), **extra)
            text = str(value)
        elif isinstance(value, dt.datetime | dt.date):
            iso = value.isoformat()
            element = TableCell(valuetype="date", datevalue=iso, **extra)
            text = iso
        else:
            element = TableCell(valuetype="string", **extra)
            text = str(value)
        element.addElement(P(text=text))
        return element

    def sheet(name: str, widths: Sequence[float]) -> OdsTable:
        table = OdsTable(name=name)
        for index, width in enumerate(widths):
            column_style = Style(name=f"{name}-col{index}", family="table-column")
            column_style.addElement(TableColumnProperties(columnwidth=f"{width * 0.22:.2f}cm"))
            document.automaticstyles.addElement(column_style)
            table.addElement(TableColumn(stylename=column_style))
        document.spreadsheet.addElement(table)
        return table

    table = sheet(title, [max(12, len(h) + 2) for h in headers])
    header_row = TableRow()
    for header in headers:
        header_row.addElement(cell(header, bold))
    table.addElement(header_row)
    for values in rows:
        row = TableRow()
        for value in values:
            row.addElement(cell(value))
        table.addElement(row)
    if notes:
        help_sheet = sheet("Aide", [110])
        for note in notes:
            row = TableRow()
            row.addElement(cell(note))
            help_sheet.addElement(row)
    out = io.BytesIO()
    document.write(out)
    return out.getvalue()
