"""The quarter as PDF (WeasyPrint), XLSX (openpyxl) and CSV, from suppressed figures only.

Every format opens with the conventions' commitments against achievements (what the
committee asks first), then the quarter's figures; a closed quarter's both come from its
snapshot (services.snapshots).

- PDF: A4, page numbers, a table of contents, each chart with its table.
- XLSX: one sheet per table (hidden counts are the text "< 5" or "(s)").
- CSV: one figure per line, ``tableau;ligne;colonne;valeur``, ``;``-separated, UTF-8 with
  a byte order mark (so that spreadsheet software reads accents), French number formats
  ("12,5") - or English ones for ``lang="en"``.

A convention's yearly report (:func:`build_yearly`, XLSX or CSV): for each year of the
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
from services import charts, clock, conventions, snapshots, stats
from services.committee import QuarterReview, quarter_review
from services.exports import safe_cell, safe_row
from services.stats import Figures, Quarter

FORMATS = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
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
    """The quarter's report in ``fmt`` (pdf, xlsx, csv) and language ``lang`` (fr, en)."""
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
        elif fmt == "xlsx":
            content = xlsx(figures, review, lang=lang, commitments=commitments)
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
    from weasyprint import CSS, HTML
    from weasyprint.urls import URLFetcher

    html = pdf_html(figures, review, lang=lang, commitments=commitments)
    css = Path(current_app.static_folder or "", "css", "report.css")
    # WeasyPrint may read the embedded pictures and nothing else (no network, no files).
    fetcher = URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    return HTML(string=html, url_fetcher=fetcher).write_pdf(  # type: ignore[no-any-return]
        stylesheets=[CSS(filename=str(css))])


# --------------------------------------------------------------------------- XLSX


def _sheet_title(title: str, used: set[str]) -> str:
    clean = "".join(ch for ch in title if ch not in "[]:*?/\\")[:31].strip()
    name, n = clean, 2
    while name in used:
        suffix = f" ({n})"
        name, n = clean[: 31 - len(suffix)] + suffix, n + 1
    used.add(name)
    return name


def _xlsx_value(cell: stats.Cell, lang: str) -> Any:
    if cell.status != stats.SHOWN or cell.value is None:
        return stats.display(cell, lang)
    if cell.kind == stats.COUNT:
        return int(cell.value)
    if cell.kind in (stats.DAYS, stats.SHARE, stats.MONEY):
        return round(float(cell.value), 3 if cell.kind == stats.SHARE else 1)
    return safe_cell(str(cell.value))


def _append_table(ws: Any, table: stats.Table, lang: str) -> None:
    """A table at the foot of a sheet: its title, its header, its rows (totals bold), its note."""
    from openpyxl.styles import Font

    ws.append(safe_row([table.title]))
    ws[ws.max_row][0].font = Font(bold=True)
    ws.append(safe_row([table.row_header or ""] + [str(c) for c in table.columns]))
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    for row in table.rows:
        ws.append([safe_cell(row.label)] + [_xlsx_value(c, lang) for c in row.cells])
        if row.is_total:
            for cell in ws[ws.max_row]:
                cell.font = Font(bold=True)
        for c, src in zip(ws[ws.max_row][1:], row.cells, strict=True):
            if src.kind == stats.SHARE and src.status == stats.SHOWN:
                c.number_format = "0.0%"
    if table.note:
        ws.append([])
        ws.append(safe_row([table.note]))
    ws.column_dimensions["A"].width = 48
    for col in "BCDEFG":
        ws.column_dimensions[col].width = 18


def _table_sheet(wb: Any, table: stats.Table, used: set[str], lang: str) -> None:
    """One sheet for one table."""
    _append_table(wb.create_sheet(_sheet_title(table.title, used)), table, lang)


def xlsx(figures: Figures, review: QuarterReview | None = None, *, lang: str = "fr",
         commitments: Sequence[stats.Table] = ()) -> bytes:
    """The workbook: a cover sheet, the commitments' sheets, then one sheet per table."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    stats.require_suppressed(figures)
    wb = Workbook()
    cover = wb.active
    cover.title = str(_l("Présentation"))[:31]
    cover.append(safe_row([str(_l("Comité de suivi — %(q)s", q=figures.periods[0].label))]))
    cover["A1"].font = Font(bold=True, size=14)
    cover.append(safe_row([str(_l("Départements")), ", ".join(figures.departments)]))
    cover.append(safe_row([str(_l("Petits effectifs")), stats.legend()]))
    if figures.facts.get("lowest_quartile_income") is not None:
        cover.append([str(_l("Seuil du premier quartile (revenu mensuel, €)")),
                      round(float(figures.facts["lowest_quartile_income"]), 2)])
    used = {cover.title}
    for table in [*commitments, *figures.tables]:
        _table_sheet(wb, table, used, lang)
    if review is not None and (review.carried_over or review.actions):
        ws = wb.create_sheet(_sheet_title(str(_l("Actions de suivi")), used))
        ws.append(safe_row([str(_l("Trimestre")), str(_l("Action")), str(_l("Organisation")),
                            str(_l("Échéance")), str(_l("Statut"))]))
        for a in [*review.carried_over, *review.actions]:
            ws.append(safe_row([a.quarter, a.text, a.owner_organisation.name if a.owner_organisation else "",
                                a.due_on.isoformat() if a.due_on else "", status_label(a.status)]))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


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


def _csv_of(rows: Iterator[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# --------------------------------------------------------------------------- a convention's years

YEARLY_FORMATS = ("xlsx", "csv")


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
    """A convention's yearly report in ``fmt`` (xlsx, csv) and language ``lang`` (fr, en)."""
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
        else:
            content = _yearly_xlsx(convention, years, lang)
    suffix = "" if lang == "fr" else f"-{lang}"
    return Report(content, FORMATS[fmt], f"convention-{convention.id}-bilan-annuel{suffix}.{fmt}")


def _yearly_xlsx(convention: Convention, years: list[Year], lang: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    cover = wb.active
    cover.title = str(_l("Présentation"))[:31]
    cover.append(safe_row([str(_l("Bilan annuel — %(t)s", t=convention.title))]))
    cover["A1"].font = Font(bold=True, size=14)
    cover.append(safe_row([str(_l("Départements")), ", ".join(convention.departments)]))
    cover.append(safe_row([str(_l("Parties")), ", ".join(convention.parties)]))
    cover.append(safe_row([str(_l("Période")), f"{convention.starts_on.isoformat()} – "
                           f"{(convention.ends_on - dt.timedelta(days=1)).isoformat()}"]))
    cover.append(safe_row([str(_l("Petits effectifs")), stats.legend()]))
    for y in years:
        cover.append(safe_row([str(y.year), y.tables[0].note if y.tables else
                               str(_l("Aucun engagement pour %(y)s.", y=y.year))]))
    cover.column_dimensions["A"].width = 30
    # One sheet per year, its tables one under the other (a sheet's name holds 31 characters only).
    for y in years:
        ws = wb.create_sheet(str(y.year))
        for table in y.tables:
            _append_table(ws, table, lang)
            ws.append([])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
