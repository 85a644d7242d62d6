"""The committee's pictures: SVG charts of suppressed figures, and a map of departments.

Charts are drawn with matplotlib's object API (no pyplot, no global state: safe in
threads) on the Agg/SVG backends, with the bundled DejaVu fonts and no network. They
read only suppressed figures (:func:`services.stats.require_suppressed`): a hidden
count gets no bar and no colour, only its label ("< 5", "(s)"), so its height cannot be
measured from the picture. Every picture comes with a text alternative
(:func:`alt_text`) and the table it was drawn from.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from functools import cache
from importlib import resources
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

from flask_babel import lazy_gettext as _l

from services import stats
from services.stats import Cell, Figures

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch, Rectangle


@cache
def _mpl() -> SimpleNamespace:
    """matplotlib, imported at the first chart: every process would pay ~1 s and 60 MB for it."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch, Polygon

    return SimpleNamespace(rc_context=matplotlib.rc_context, Figure=Figure, Patch=Patch, Polygon=Polygon)

# Colours with enough contrast on white, distinguishable in grey scale too.
BLUE, ORANGE, GREEN = "#1f4e79", "#b35900", "#2e7d32"
SHADES = ["#eef3f8", "#c6d7ea", "#8fb1d6", "#4d7fb8", "#1f4e79"]
HIDDEN_FILL = "#ffffff"

_RC = {
    "svg.fonttype": "none",  # text stays text: smaller files, searchable, crisp
    "svg.hashsalt": "passerelle",  # stable ids: the same figures give the same file
    "font.family": "DejaVu Sans",
    "font.size": 10,
}

CHARTS = ("flow", "delays", "refusals", "map_waiting", "map_housed")


def _svg(fig: Figure) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="svg", bbox_inches="tight", metadata={"Date": None})
    return out.getvalue()


def _figure(width: float = 7.0, height: float = 3.6) -> Figure:
    with _mpl().rc_context(_RC):
        fig: Figure = _mpl().Figure(figsize=(width, height), layout="constrained")  # _mpl() is a namespace: Any
        return fig


def _bar(patch: Patch) -> Rectangle:
    # Axes.patches is typed as any Patch; on these charts its only patches are the bars
    # drawn by bar()/barh(), which are Rectangles (the legend's patches are the legend's).
    return cast("Rectangle", patch)


def _bar_label(cell: Cell) -> str:
    return stats.display(cell)


def _hbars(ax: Any, labels: list[str], cells: list[Cell], colour: str) -> None:
    shown = [c.public_value() or 0 for c in cells]
    ys = list(range(len(labels)))
    ax.barh(ys, [float(v) for v in shown], color=colour)
    top = max([float(v) for v in shown] + [1.0])
    for y, c in zip(ys, cells, strict=True):
        ax.text(float(c.public_value() or 0) + top * 0.01, y, _bar_label(c), va="center", fontsize=9)
    ax.set_yticks(ys, labels)
    ax.invert_yaxis()
    ax.set_xlim(0, top * 1.15)
    ax.spines[["top", "right"]].set_visible(False)


def flow_chart(figures: Figures) -> bytes:
    """Bars: submitted, first proposals, housed, for the quarter and the previous quarter."""
    stats.require_suppressed(figures)
    head = figures.table("headline")
    keys = ["submitted", "proposed", "housed"]
    labels = [str(_l("Demandes déposées")), str(_l("Premières propositions")), str(_l("Ménages relogés"))]
    with _mpl().rc_context(_RC):
        fig = _figure()
        ax = fig.add_subplot()
        width = 0.38
        for i, (col, colour) in enumerate([(1, "#8fb1d6"), (0, BLUE)]):
            cells = [head.row_by_key(k).cells[col] for k in keys]
            xs = [x + (i - 0.5) * width for x in range(len(keys))]
            heights = [float(c.public_value() or 0) for c in cells]
            ax.bar(xs, heights, width, color=colour, label=figures.periods[col].label)
            for x, h, c in zip(xs, heights, cells, strict=True):
                ax.text(x, h, _bar_label(c), ha="center", va="bottom", fontsize=9)
        ax.set_xticks(range(len(keys)), labels)
        ax.set_ylabel(str(_l("Ménages")))
        ax.spines[["top", "right"]].set_visible(False)
        ax.legend(frameon=False)
        ax.set_ylim(0, max([1.0] + [_bar(p).get_height() for p in ax.patches]) * 1.2)
        return _svg(fig)


def delays_chart(figures: Figures) -> bytes:
    """Bars: median and 90th percentile of the two delays, for the quarter."""
    stats.require_suppressed(figures)
    delays = figures.table("delays")
    key = str(figures.quarter)
    rows = [delays.row_by_key(f"first_proposal_at:{key}"), delays.row_by_key(f"leased_at:{key}")]
    labels = [str(_l("Première proposition")), str(_l("Bail signé"))]
    with _mpl().rc_context(_RC):
        fig = _figure(height=2.8)
        ax = fig.add_subplot()
        ys = [0, 1]
        for j, (col, colour, name) in enumerate([(1, BLUE, _l("Médiane")), (2, ORANGE, _l("90e centile"))]):
            cells = [r.cells[col] for r in rows]
            vals = [float(c.public_value() or 0) for c in cells]
            pos = [y + (j - 0.5) * 0.38 for y in ys]
            ax.barh(pos, vals, 0.38, color=colour, label=str(name))
            for p, v, c in zip(pos, vals, cells, strict=True):
                ax.text(v, p, " " + _bar_label(c), va="center", fontsize=9)
        ax.set_yticks(ys, labels)
        ax.invert_yaxis()
        ax.set_xlabel(str(_l("Jours depuis l'activation de la demande")))
        ax.spines[["top", "right"]].set_visible(False)
        ax.legend(frameon=False, loc="lower right")
        ax.set_xlim(0, max([1.0] + [_bar(p).get_width() for p in ax.patches]) * 1.2)
        return _svg(fig)


def refusals_chart(figures: Figures) -> bytes:
    """Horizontal bars: refusals of the quarter by side and reason."""
    stats.require_suppressed(figures)
    table = figures.table("refusals")
    rows = [r for r in table.rows if not r.is_total]
    with _mpl().rc_context(_RC):
        fig = _figure(height=0.3 * len(rows) + 1.0)
        ax = fig.add_subplot()
        colours = [BLUE if r.key.startswith("household") else ORANGE for r in rows]
        _hbars(ax, [r.label for r in rows], [r.cells[0] for r in rows], BLUE)
        for patch, colour in zip(ax.patches, colours, strict=True):
            patch.set_facecolor(colour)
        ax.set_xlabel(str(_l("Refus, %(quarter)s", quarter=figures.periods[0].label)))
        ax.legend(handles=[_mpl().Patch(color=BLUE, label=str(_l("Ménage"))),
                           _mpl().Patch(color=ORANGE, label=str(_l("Commission")))], frameon=False,
                  loc="lower right")
        return _svg(fig)


@cache
def _departments_geometry() -> dict[str, list[list[tuple[float, float]]]]:
    """Outer rings of each department's polygons, from the bundled GeoJSON."""
    text = resources.files("matching").joinpath("data/departments.geojson").read_text(encoding="utf-8")
    shapes: dict[str, list[list[tuple[float, float]]]] = {}
    for feature in json.loads(text)["features"]:
        geom = feature["geometry"]
        polys = [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]
        shapes[feature["properties"]["code"]] = [[(x, y) for x, y in poly[0]] for poly in polys]
    return shapes


def _meets(ring: list[tuple[float, float]], box: tuple[float, float, float, float]) -> bool:
    """Whether a ring's bounding box meets the picture's box."""
    x0, x1, y0, y1 = box
    xs = [x for x, _ in ring]
    ys = [y for _, y in ring]
    return min(xs) <= x1 and max(xs) >= x0 and min(ys) <= y1 and max(ys) >= y0


def departments_map(figures: Figures, measure: str = "waiting") -> bytes:
    """France's departments, the selected ones shaded by households waiting (or housed)."""
    stats.require_suppressed(figures)
    col = {"waiting": 1, "housed": 2}[measure]
    table = figures.table("by_department")
    cells = {r.key.removeprefix("dep:"): r.cells[col] for r in table.rows if r.key.startswith("dep:")}
    values = [float(c.public_value() or 0) for c in cells.values() if c.shown]
    top = max(values + [1.0])
    shapes = _departments_geometry()
    selected = [d for d in cells if d in shapes]
    metro = [d for d in selected if not d.startswith("97")]
    focus = metro or selected
    xs = [x for d in focus for ring in shapes[d] for x, _ in ring]
    ys = [y for d in focus for ring in shapes[d] for _, y in ring]
    with _mpl().rc_context(_RC):
        fig = _figure(width=6.0, height=5.0)
        ax = fig.add_subplot()
        pad = 0.6
        box = (min(xs) - pad, max(xs) + pad, min(ys) - pad, max(ys) + pad) if xs else None
        for code, rings in shapes.items():
            if box is not None and not any(_meets(ring, box) for ring in rings):
                continue  # outside the picture: not drawn (smaller file)
            cell = cells.get(code)
            hatch = None
            if cell is None:
                face, edge = "#f2f2f2", "#bdbdbd"
            elif not cell.shown:
                face, edge, hatch = HIDDEN_FILL, "#333333", "///"
            else:
                v = float(cell.value or 0)
                face = SHADES[0] if v == 0 else SHADES[min(4, 1 + int(3 * v / top))]
                edge = "#333333"
            for ring in rings:
                ax.add_patch(_mpl().Polygon(ring, closed=True, facecolor=face, edgecolor=edge, linewidth=0.6,
                                     hatch=hatch))
        for code in selected:
            ring = max(shapes[code], key=len)
            cx = sum(x for x, _ in ring) / len(ring)
            cy = sum(y for _, y in ring) / len(ring)
            ax.text(cx, cy, f"{code}\n{stats.display(cells[code])}", ha="center", va="center", fontsize=8,
                    bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1})
        if box is not None:
            ax.set_xlim(box[0], box[1])
            ax.set_ylim(box[2], box[3])
        ax.set_aspect(1.5)  # about 1/cos(48°): a plain longitude/latitude plot of France
        ax.set_axis_off()
        title = _l("Ménages en attente en fin de trimestre") if measure == "waiting" else _l("Ménages relogés")
        ax.set_title(str(title))
        ax.legend(handles=[_mpl().Patch(facecolor=SHADES[1], edgecolor="#333", label=str(_l("Peu"))),
                           _mpl().Patch(facecolor=SHADES[4], edgecolor="#333", label=str(_l("Beaucoup"))),
                           _mpl().Patch(facecolor=HIDDEN_FILL, edgecolor="#333", hatch="///",
                                 label=str(_l("Masqué (< 5)")))],
                  frameon=False, loc="lower left", fontsize=8)
        return _svg(fig)


RENDERERS: dict[str, Callable[[Figures], bytes]] = {
    "flow": flow_chart,
    "delays": delays_chart,
    "refusals": refusals_chart,
    "map_waiting": lambda f: departments_map(f, "waiting"),
    "map_housed": lambda f: departments_map(f, "housed"),
}

#: The table each chart is drawn from (shown beside it).
CHART_TABLE = {"flow": "headline", "delays": "delays", "refusals": "refusals",
               "map_waiting": "by_department", "map_housed": "by_department"}


def render(name: str, figures: Figures) -> bytes:
    """The SVG of one of :data:`CHARTS`."""
    return RENDERERS[name](figures)


def title(name: str) -> str:
    return str({
        "flow": _l("Demandes, propositions et relogements"),
        "delays": _l("Délais depuis l'activation de la demande"),
        "refusals": _l("Refus par motif"),
        "map_waiting": _l("Carte des ménages en attente par département"),
        "map_housed": _l("Carte des ménages relogés par département"),
    }[name])


def alt_text(name: str, figures: Figures) -> str:
    """A text alternative: what the picture shows; the numbers are in the table beside it."""
    q = figures.periods[0].label
    return str({
        "flow": _l("Diagramme en barres des demandes déposées, premières propositions et ménages relogés, "
                   "%(q)s comparé au trimestre précédent. Les valeurs figurent dans le tableau qui suit.", q=q),
        "delays": _l("Diagramme en barres de la médiane et du 90e centile des délais jusqu'à la première "
                     "proposition et jusqu'au bail, %(q)s. Les valeurs figurent dans le tableau qui suit.", q=q),
        "refusals": _l("Diagramme en barres des refus du ménage et de la commission par motif, %(q)s. "
                       "Les valeurs figurent dans le tableau qui suit.", q=q),
        "map_waiting": _l("Carte des départements sélectionnés, plus foncés quand plus de ménages attendent "
                          "en fin de %(q)s. Les valeurs figurent dans le tableau qui suit.", q=q),
        "map_housed": _l("Carte des départements sélectionnés, plus foncés quand plus de ménages ont été "
                         "relogés en %(q)s. Les valeurs figurent dans le tableau qui suit.", q=q),
    }[name])
