"""The quarter as PDF (WeasyPrint), XLSX (openpyxl) and CSV, from suppressed figures only.

Every format opens with the conventions' commitments against achievements (what the
committee asks first), then the quarter's figures; a closed quarter's both come from its
snapshot (services.snapshots).

- PDF: A4, page numbers, a table of contents, each chart with its table.
- XLSX: one sheet per table (hidden counts are the text "< 5" or "(s)").
- CSV: one figure per line, ``tableau;ligne;colonne;valeur``, ``;``-separated, UTF-8 with
  a byte order mark (so that spreadsheet software reads accents), French number formats
  ("12,5") - or English ones for ``lang="en"``.

Every builder calls :func:`services.stats.require_suppressed` first. The language is
chosen by the caller with ``flask_babel.force_locale`` around the whole build (see
:func:`build`), figures included: their labels are translated when computed.
"""

from __future__ import annotations

import base64
import csv
import dataclasses
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy.orm as so
from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from services import charts, conventions, snapshots, stats
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


def _table_sheet(wb: Any, table: stats.Table, used: set[str], lang: str) -> None:
    """One sheet: the table's title, its header, its rows (totals bold), its note."""
    from openpyxl.styles import Font

    ws = wb.create_sheet(_sheet_title(table.title, used))
    ws.append(safe_row([table.title]))
    ws["A1"].font = Font(bold=True)
    ws.append(safe_row([table.row_header or ""] + [str(c) for c in table.columns]))
    for cell in ws[2]:
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
    yield safe_row([str(_l("tableau")), str(_l("ligne")), str(_l("colonne")), str(_l("valeur"))])
    for table in [*commitments, *figures.tables]:
        for row in table.rows:
            for col, cell in zip(table.columns, row.cells, strict=True):
                yield safe_row([table.title, row.label, str(col), stats.display(cell, lang).replace("\u00a0", " ")])


def csv_bytes(figures: Figures, *, lang: str = "fr", commitments: Sequence[stats.Table] = ()) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerows(csv_rows(figures, lang, commitments))
    return ("\ufeff" + out.getvalue()).encode("utf-8")
