"""The quarter as PDF (WeasyPrint), XLSX (openpyxl) and CSV, from suppressed figures only.

Every format opens with the conventions' commitments against achievements (what the
committee asks first), then the quarter's figures; a closed quarter's both come from its
snapshot (services.snapshots).

- PDF: A4, page numbers, a table of contents, each chart with its table.
- XLSX and ODS: one sheet per table (hidden counts are the text "< 5" or "(s)"), laid out
  once (:class:`Sheet`) and written by openpyxl or odfpy.
- CSV: one figure per line, ``tableau;ligne;colonne;valeur``, ``;``-separated, UTF-8 with
  a byte order mark (so that spreadsheet software reads accents), French number formats
  ("12,5") - or English ones for ``lang="en"``.

A convention's yearly report (:func:`build_yearly`, XLSX, ODS or CSV): for each year of the
convention up to the current one, each commitment against what was achieved in the year.
A year is read from its fourth quarter's snapshot when that quarter was closed (its year to
date is the whole year, frozen and already suppressed), else recomputed today through the
same ``committee_tables`` (so through the same suppression).

Every builder calls :func:`services.stats.require_suppressed` first. The language is
chosen by the caller with ``flask_babel.force_locale`` around the whole build (see
:func:`build`), figures included: their labels are translated when computed.
"""

from __future__ import annotations

import base64
import csv
import dataclasses
import datetime as dt
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy.orm as so
from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from models import Convention
from services import charts, clock, conventions, multi_year, snapshots, stats
from services.committee import QuarterReview, quarter_review
from services.exports import safe_cell, safe_row
from services.stats import Figures, Quarter

FORMATS = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "csv": "text/csv; charset=utf-8",
}


@dataclass
class Report:
    content: bytes
    mimetype: str
    filename: str


def build(session: so.Session, fmt: str, quarter: Quarter, departments: list[str], *, lang: str = "fr",
          committee_id: int | None = None, lowest_quartile_setting: float | None = None,
          qpv_target: float = stats.DEFAULT_QPV_TARGET) -> Report:
    """The quarter's report in ``fmt`` (pdf, xlsx, ods, csv) and language ``lang`` (fr, en)."""
    if fmt not in FORMATS:
        raise ValueError(fmt)
    with force_locale(lang):
        # A closed quarter comes from its snapshot: purges and erasures since change nothing.
        figures = snapshots.quarter_figures(session, quarter, departments, lang=lang,
                                            lowest_quartile_setting=lowest_quartile_setting, qpv_target=qpv_target)
        # The commitments first, as on the committee's page; frozen with the quarter too.
        commitments = commitment_tables(snapshots.convention_sections(session, quarter, departments, lang=lang))
        review = quarter_review(session, quarter, committee_id)
        if fmt == "pdf":
            content = pdf(figures, review, lang=lang, commitments=commitments)
        elif fmt in ("xlsx", "ods"):
            content = _write(quarter_sheets(figures, review, lang=lang, commitments=commitments), fmt)
        else:
            content = csv_bytes(figures, lang=lang, commitments=commitments)
    # The language in the name: the French and the English PDF are two files, not one twice.
    suffix = "" if lang == "fr" else f"-{lang}"
    name = f"comite-{quarter}-{'-'.join(departments)}{suffix}.{fmt}"
    return Report(content, FORMATS[fmt], name)


def commitment_tables(sections: Sequence[conventions.Section]) -> list[stats.Table]:
    """The conventions' tables as a report lists them: each titled and keyed by its convention
    too (two conventions have tables of the same kind)."""
    return [dataclasses.replace(t, key=f"convention-{s.id}-{t.key}", title=f"{s.title} — {t.title}")
            for s in sections for t in s.tables]


# --------------------------------------------------------------------------- PDF


def _data_uri(svg: bytes) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode()


def chart_sections(figures: Figures) -> list[dict[str, Any]]:
    """Each chart with its title, text alternative and the table it was drawn from."""
    return [{"name": name, "title": charts.title(name), "alt": charts.alt_text(name, figures),
             "table": figures.table(charts.CHART_TABLE[name])} for name in charts.CHARTS]


def pdf_html(figures: Figures, review: QuarterReview, *, lang: str = "fr",
             commitments: Sequence[stats.Table] = ()) -> str:
    """The HTML WeasyPrint lays out: charts embedded as data URIs, each with its table."""
    stats.require_suppressed(figures)
    sections = chart_sections(figures)
    for s in sections:
        s["src"] = _data_uri(charts.render(s["name"], figures))
    charted = {s["table"].key for s in sections}
    return render_template("reports/quarter.html", figures=figures, sections=sections, review=review,
                           commitments=list(commitments),
                           other_tables=[t for t in figures.tables if t.key not in charted],
                           display=lambda c: stats.display(c, lang), legend=stats.legend(), lang=lang)


def pdf(figures: Figures, review: QuarterReview, *, lang: str = "fr",
        commitments: Sequence[stats.Table] = ()) -> bytes:
    """The PDF report (A4, page numbers, table of contents)."""
    return _write_pdf(pdf_html(figures, review, lang=lang, commitments=commitments))


def _write_pdf(html: str) -> bytes:
    from weasyprint import CSS, HTML
    from weasyprint.urls import URLFetcher

    css = Path(current_app.static_folder or "", "css", "report.css")
    # WeasyPrint may read the embedded pictures and nothing else (no network, no files).
    fetcher = URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    return HTML(string=html, url_fetcher=fetcher).write_pdf(  # type: ignore[no-any-return]
        stylesheets=[CSS(filename=str(css))])


def tables_pdf(title: str, lines: Sequence[str], tables: Sequence[stats.Table], lang: str) -> bytes:
    """A PDF of suppressed tables only: a cover (title, lines, legend, contents), then each table."""
    html = render_template("reports/tables.html", title=title, lines=list(lines), tables=list(tables),
                           legend=stats.legend(), lang=lang, display=lambda c: stats.display(c, lang))
    return _write_pdf(html)


# --------------------------------------------------------------------------- spreadsheets (XLSX, ODS)
#
# A workbook is laid out once, as `Sheet`s of `Value`s, then written by openpyxl or odfpy: the
# two formats hold the same cells, so the ODS can never drift from the XLSX.


@dataclass
class Value:
    """One cell: a number, or text already made safe (`safe_cell`); bold, a share, a title."""

    value: Any
    bold: bool = False
    share: bool = False
    size: int | None = None


@dataclass
class Sheet:
    name: str
    rows: list[list[Value]] = dataclasses.field(default_factory=list)
    widths: dict[int, float] = dataclasses.field(default_factory=dict)  # column index -> characters

    def text(self, values: Sequence[Any], *, bold: bool = False, size: int | None = None) -> None:
        self.rows.append([Value(v, bold=bold, size=size) for v in safe_row(list(values))])

    def blank(self) -> None:
        self.rows.append([])


def _sheet_title(title: str, used: set[str]) -> str:
    clean = "".join(ch for ch in title if ch not in "[]:*?/\\")[:31].strip()
    name, n = clean, 2
    while name in used:
        suffix = f" ({n})"
        name, n = clean[: 31 - len(suffix)] + suffix, n + 1
    used.add(name)
    return name


def _cell_value(cell: stats.Cell, lang: str) -> Any:
    if cell.status != stats.SHOWN or cell.value is None:
        return stats.display(cell, lang)
    if cell.kind == stats.COUNT:
        return int(cell.value)
    if cell.kind in (stats.DAYS, stats.SHARE, stats.MONEY):
        return round(float(cell.value), 3 if cell.kind == stats.SHARE else 1)
    return safe_cell(str(cell.value))


def _append_table(sheet: Sheet, table: stats.Table, lang: str) -> None:
    """A table at the foot of a sheet: its title, its header, its rows (totals bold), its note."""
    sheet.text([table.title], bold=True)
    sheet.text([table.row_header or ""] + [str(c) for c in table.columns], bold=True)
    for row in table.rows:
        sheet.rows.append([Value(safe_cell(row.label), bold=row.is_total)]
                          + [Value(_cell_value(c, lang), bold=row.is_total,
                                   share=c.kind == stats.SHARE and c.status == stats.SHOWN) for c in row.cells])
    if table.note:
        sheet.blank()
        sheet.text([table.note])
    sheet.widths.update({0: 48, **{i: 18 for i in range(1, 7)}})


def _write_xlsx(sheets: Sequence[Sheet]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    for sheet in sheets:
        ws = wb.create_sheet(sheet.name)
        for values in sheet.rows:
            ws.append([v.value for v in values])
            for cell, v in zip(ws[ws.max_row], values, strict=False):
                if v.bold or v.size:
                    cell.font = Font(bold=True, size=v.size) if v.size else Font(bold=True)
                if v.share:
                    cell.number_format = "0.0%"
        for index, width in sheet.widths.items():
            ws.column_dimensions[get_column_letter(index + 1)].width = width
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _write_ods(sheets: Sequence[Sheet]) -> bytes:
    """The same sheets in LibreOffice's own format (odfpy writes no formula: values only)."""
    from odf.number import Number, PercentageStyle
    from odf.number import Text as NumberText
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.style import Style, TableColumnProperties, TextProperties
    from odf.table import Table as OdsTable
    from odf.table import TableCell, TableColumn, TableRow
    from odf.text import P

    document = OpenDocumentSpreadsheet()
    bold = Style(name="bold", family="table-cell")
    bold.addElement(TextProperties(fontweight="bold"))
    title = Style(name="title", family="table-cell")
    title.addElement(TextProperties(fontweight="bold", fontsize="14pt"))
    percent_format = PercentageStyle(name="percent-format")
    percent_format.addElement(Number(decimalplaces="1", minintegerdigits="1"))
    percent_format.addElement(NumberText(text="%"))
    document.automaticstyles.addElement(percent_format)
    percent = Style(name="percent", family="table-cell", datastylename="percent-format")
    document.automaticstyles.addElement(bold)
    document.automaticstyles.addElement(title)
    document.automaticstyles.addElement(percent)

    def cell(v: Value) -> TableCell:
        style = title if v.size else bold if v.bold else percent if v.share else None
        extra = {"stylename": style} if style is not None else {}
        if v.value is None or v.value == "":
            return TableCell(**extra)
        if isinstance(v.value, int | float):
            element = TableCell(valuetype="percentage" if v.share else "float", value=str(v.value), **extra)
            text = f"{v.value * 100:.1f} %" if v.share else str(v.value)
        else:
            element = TableCell(valuetype="string", **extra)
            text = str(v.value)
        element.addElement(P(text=text))
        return element

    for number, sheet in enumerate(sheets):
        table = OdsTable(name=sheet.name)
        for index in range(max(sheet.widths, default=-1) + 1):
            column_style = Style(name=f"s{number}-col{index}", family="table-column")
            width = sheet.widths.get(index, 12)
            column_style.addElement(TableColumnProperties(columnwidth=f"{width * 0.22:.2f}cm"))
            document.automaticstyles.addElement(column_style)
            table.addElement(TableColumn(stylename=column_style))
        for values in sheet.rows:
            row = TableRow()
            for v in values:
                row.addElement(cell(v))
            table.addElement(row)
        document.spreadsheet.addElement(table)
    out = io.BytesIO()
    document.write(out)
    return out.getvalue()


def _write(sheets: Sequence[Sheet], fmt: str) -> bytes:
    return _write_ods(sheets) if fmt == "ods" else _write_xlsx(sheets)


def quarter_sheets(figures: Figures, review: QuarterReview | None = None, *, lang: str = "fr",
                   commitments: Sequence[stats.Table] = ()) -> list[Sheet]:
    """The workbook: a cover sheet, the commitments' sheets, then one sheet per table."""
    stats.require_suppressed(figures)
    cover = Sheet(str(_l("Présentation"))[:31])
    cover.text([str(_l("Comité de suivi — %(q)s", q=figures.periods[0].label))], size=14)
    cover.text([str(_l("Départements")), ", ".join(figures.departments)])
    cover.text([str(_l("Petits effectifs")), stats.legend()])
    if figures.facts.get("lowest_quartile_income") is not None:
        cover.rows.append([Value(str(_l("Seuil du premier quartile (revenu mensuel, €)"))),
                           Value(round(float(figures.facts["lowest_quartile_income"]), 2))])
    used = {cover.name}
    sheets = [cover]
    for table in [*commitments, *figures.tables]:
        sheet = Sheet(_sheet_title(table.title, used))
        _append_table(sheet, table, lang)
        sheets.append(sheet)
    if review is not None and (review.carried_over or review.actions):
        actions = Sheet(_sheet_title(str(_l("Actions de suivi")), used))
        actions.text([str(_l("Trimestre")), str(_l("Action")), str(_l("Organisation")),
                      str(_l("Échéance")), str(_l("Statut"))])
        for a in [*review.carried_over, *review.actions]:
            actions.text([a.quarter, a.text, a.owner_organisation.name if a.owner_organisation else "",
                          a.due_on.isoformat() if a.due_on else "", status_label(a.status)])
        sheets.append(actions)
    return sheets


def xlsx(figures: Figures, review: QuarterReview | None = None, *, lang: str = "fr",
         commitments: Sequence[stats.Table] = ()) -> bytes:
    return _write_xlsx(quarter_sheets(figures, review, lang=lang, commitments=commitments))


def ods(figures: Figures, review: QuarterReview | None = None, *, lang: str = "fr",
        commitments: Sequence[stats.Table] = ()) -> bytes:
    return _write_ods(quarter_sheets(figures, review, lang=lang, commitments=commitments))


def status_label(status: str) -> str:
    return str(_l("ouverte") if status == "open" else _l("faite"))


# --------------------------------------------------------------------------- CSV


def csv_rows(figures: Figures, lang: str = "fr", commitments: Sequence[stats.Table] = ()) -> Iterator[list[str]]:
    """Header then one line per figure: table, row, column, value (as displayed); commitments first."""
    stats.require_suppressed(figures)
    yield from table_csv_rows([*commitments, *figures.tables], lang)


def table_csv_rows(tables: Sequence[stats.Table], lang: str = "fr") -> Iterator[list[str]]:
    """Header then one line per figure of suppressed tables: table, row, column, value (as displayed)."""
    yield safe_row([str(_l("tableau")), str(_l("ligne")), str(_l("colonne")), str(_l("valeur"))])
    for table in tables:
        for row in table.rows:
            for col, cell in zip(table.columns, row.cells, strict=True):
                yield safe_row([table.title, row.label, str(col), stats.display(cell, lang).replace("\u00a0", " ")])


def csv_bytes(figures: Figures, *, lang: str = "fr", commitments: Sequence[stats.Table] = ()) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerows(csv_rows(figures, lang, commitments))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def tables_csv(tables: Sequence[stats.Table], lang: str = "fr") -> bytes:
    """Suppressed tables as the reports' CSV (one figure per line)."""
    return _csv_of(table_csv_rows(tables, lang))


def _csv_of(rows: Iterator[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# --------------------------------------------------------------------------- a convention's years

YEARLY_FORMATS = ("pdf", "xlsx", "ods", "csv")


@dataclass
class Year:
    """One year of a convention's report: its tables, and whether they were frozen (and when)."""

    year: int
    tables: list[stats.Table]
    frozen_at: dt.datetime | None = None  # when its snapshot was frozen; None: recomputed today


def yearly(session: so.Session, convention: Convention, departments: list[str], *,
           today: dt.date | None = None) -> list[Year]:
    """Each year of the convention up to this one: commitment, achieved in the year, share kept.

    Read from the fourth quarter of the year (its year to date is the year) for the committee's
    `departments`: its snapshot when closed, else live (services.snapshots.convention_sections).
    Dropping the quarter's column of a suppressed table reveals nothing (it only shows less)."""
    this_year = (today or clock.today()).year
    out = []
    for year in conventions.years(convention):
        if year > this_year:
            break
        q4 = Quarter(year, 4)
        snapshot = snapshots.find(session, q4, departments)
        frozen = snapshot is not None and "conventions" in snapshot.figures.get("fr", {})
        section = next((s for s in snapshots.convention_sections(session, q4, departments)
                        if s.id == convention.id), None)
        tables = []
        for t in section.tables if section else []:
            columns = [t.columns[0], str(_l("Réalisé en %(y)s", y=year)), t.columns[3]]
            rows = [dataclasses.replace(r, cells=[r.cells[0], r.cells[2], r.cells[3]]) for r in t.rows]
            tables.append(stats.Table(f"{year}-{t.key}", f"{year} — {t.title}", columns, rows=rows,
                                      row_header=t.row_header))
        out.append(Year(year, tables, snapshot.frozen_at if frozen and snapshot else None))
    return out


def build_yearly(session: so.Session, fmt: str, convention: Convention, departments: list[str], *,
                 lang: str = "fr", today: dt.date | None = None) -> Report:
    """A convention's yearly report in ``fmt`` (xlsx, ods, csv) and language ``lang`` (fr, en)."""
    if fmt not in YEARLY_FORMATS:
        raise ValueError(fmt)
    with force_locale(lang):
        years = yearly(session, convention, departments, today=today)
        for y in years:
            note = (str(_l("Chiffres figés le %(d)s avec le 4e trimestre %(y)s.",
                           d=y.frozen_at.strftime("%d/%m/%Y"), y=y.year)) if y.frozen_at
                    else str(_l("Année %(y)s non close : chiffres recalculés aujourd'hui.", y=y.year)))
            for t in y.tables:
                t.note = note
        tables = [t for y in years for t in y.tables]
        if fmt == "csv":
            content = _csv_of(table_csv_rows(tables, lang))
        elif fmt == "pdf":
            content = tables_pdf(str(_l("Bilan annuel — %(t)s", t=convention.title)),
                                 _yearly_lines(convention, years), tables, lang)
        else:
            content = _write(_yearly_sheets(convention, years, lang), fmt)
    suffix = "" if lang == "fr" else f"-{lang}"
    return Report(content, FORMATS[fmt], f"convention-{convention.id}-bilan-annuel{suffix}.{fmt}")


def _yearly_cover(convention: Convention, years: list[Year]) -> list[tuple[str, str]]:
    """The cover's facts, as (heading, text): the same in the PDF and the spreadsheets."""
    return [(str(_l("Départements")), ", ".join(convention.departments)),
            (str(_l("Parties")), ", ".join(convention.parties)),
            (str(_l("Période")), f"{convention.starts_on.isoformat()} – "
                                 f"{(convention.ends_on - dt.timedelta(days=1)).isoformat()}"),
            *((str(y.year), y.tables[0].note if y.tables else str(_l("Aucun engagement pour %(y)s.", y=y.year)))
              for y in years)]


def _yearly_lines(convention: Convention, years: list[Year]) -> list[str]:
    return [str(_l("%(heading)s : %(text)s", heading=head, text=text))
            for head, text in _yearly_cover(convention, years)]


def _yearly_sheets(convention: Convention, years: list[Year], lang: str) -> list[Sheet]:
    cover = Sheet(str(_l("Présentation"))[:31], widths={0: 30})
    cover.text([str(_l("Bilan annuel — %(t)s", t=convention.title))], size=14)
    for head, text in _yearly_cover(convention, years)[:3]:
        cover.text([head, text])
    cover.text([str(_l("Petits effectifs")), stats.legend()])
    for head, text in _yearly_cover(convention, years)[3:]:
        cover.text([head, text])
    sheets = [cover]
    # One sheet per year, its tables one under the other (a sheet's name holds 31 characters only).
    for y in years:
        sheet = Sheet(str(y.year))
        for table in y.tables:
            _append_table(sheet, table, lang)
            sheet.blank()
        sheets.append(sheet)
    return sheets


# --------------------------------------------------------------------------- several years

MULTI_YEAR_FORMATS = FORMATS


def multi_year_notes(report: multi_year.MultiYear) -> list[str]:
    """Where each year's figures come from: frozen with its fourth quarter, or recomputed today."""
    return [str(_l("%(y)s : chiffres figés le %(d)s avec le 4e trimestre.", y=y.year,
                   d=y.frozen_at.strftime("%d/%m/%Y"))) if y.frozen_at
            else str(_l("%(y)s : 4e trimestre non clos, chiffres recalculés aujourd'hui.", y=y.year))
            for y in report.years]


def build_multi_year(session: so.Session, fmt: str, departments: list[str], first: int, last: int, *,
                     lang: str = "fr") -> Report:
    """The report for the préfecture and the départements over `first`..`last`, in ``fmt``."""
    if fmt not in MULTI_YEAR_FORMATS:
        raise ValueError(fmt)
    with force_locale(lang):
        report = multi_year.build(session, departments, first, last, lang=lang)
        title = str(_l("Bilan pluriannuel %(r)s", r=report.label))
        lines = [str(_l("Départements : %(d)s", d=", ".join(departments))), *multi_year_notes(report)]
        if fmt == "csv":
            content = _csv_of(table_csv_rows(report.tables, lang))
        elif fmt == "pdf":
            content = tables_pdf(title, lines, report.tables, lang)
        else:
            cover = Sheet(str(_l("Présentation"))[:31], widths={0: 60})
            cover.text([title], size=14)
            for line in [*lines, stats.legend()]:
                cover.text([line])
            used = {cover.name}
            sheets = [cover]
            for table in report.tables:
                sheet = Sheet(_sheet_title(table.title, used))
                _append_table(sheet, table, lang)
                sheets.append(sheet)
            content = _write(sheets, fmt)
    suffix = "" if lang == "fr" else f"-{lang}"
    return Report(content, FORMATS[fmt], f"bilan-{first}-{last}-{'-'.join(departments)}{suffix}.{fmt}")
