"""Income ceilings of social housing (plafonds de ressources PLAI / PLUS / PLS): one source.

A unit's ceiling depends on its financing, its zone (Paris and the communes adjacent to
it, the rest of Île-de-France, the other regions) and the household's category (the
official table: persons, dependants, young couple, disability; not simply the number of
persons). The table of a year is the one loaded with `passerelle ceilings load FILE`
(`models.IncomeCeiling`), else the table shipped in services/data/income_ceilings.json
with its source and derivation.

Every reader goes through here: the run's adapter (`services.runs._unit_dict` and
`_household_dict` give each unit the row of its financing and zone and each household
her category), the pair checks of candidacies, requests and direct matches (the same
dictionaries), and the household form (`household_ceilings`), whose amount is
`matching.income_ceiling_for` on that same row and category, the function rule 9 and
the checker apply.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from matching.domain import income_ceiling_for
from models.ceilings import CEILING_FINANCINGS, CEILING_ZONES, IncomeCeiling
from services.errors import ValidationError

__all__ = [
    "ZONE_LABELS",
    "CeilingTable",
    "category",
    "ceiling",
    "household_category",
    "household_ceilings",
    "load_csv",
    "shipped",
    "table_for",
    "unit_ceiling",
    "zone_of_commune",
    "zones_of_department",
]

IDF_DEPARTMENTS = frozenset({"75", "77", "78", "91", "92", "93", "94", "95"})
# Departments where some communes touch Paris and others do not.
INNER_RING = frozenset({"92", "93", "94"})
COLUMNS = ("category_1", "category_2", "category_3", "category_4", "category_5", "category_6",
           "per_extra_person")
ZONE_LABELS = {
    "paris": _l("Paris et communes limitrophes"),
    "idf": _l("Île-de-France hors Paris et communes limitrophes"),
    "other": _l("Autres régions"),
}


@dataclass(frozen=True)
class CeilingTable:
    """The ceilings of one year: (financing, zone) -> categories 1..6 and per extra person."""

    year: int
    source: str
    rows: Mapping[tuple[str, str], tuple[int, ...]]

    def row(self, financing: str | None, zone: str | None) -> tuple[int, ...] | None:
        """The row of a financing in a zone; None when the table has none (PLI, overseas)."""
        if financing is None or zone is None:
            return None
        return self.rows.get((financing, zone))


@functools.cache
def _data() -> dict[str, Any]:
    text = resources.files("services").joinpath("data/income_ceilings.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def shipped() -> CeilingTable:
    """The table shipped with the code (its year, source and derivation are in the file)."""
    data = _data()
    rows = {(fin, zone): tuple(int(v) for v in values)
            for fin, zones in data["ceilings"].items() for zone, values in zones.items()}
    return CeilingTable(year=int(data["year"]), source="services/data/income_ceilings.json", rows=rows)


@functools.cache
def communes_limitrophes() -> frozenset[str]:
    """INSEE codes of the 29 communes adjacent to Paris (zone "paris" of the ceilings)."""
    return frozenset(_data()["communes_limitrophes"])


def _department(code: str) -> str:
    return code[:3] if code.startswith("97") else code[:2]


def zone_of_commune(code: str) -> str | None:
    """The ceilings zone of an INSEE commune code; None overseas (ceilings of their own,
    not in the table: rule 9 is then not applied rather than applied wrong)."""
    department = _department(code)
    if department == "75" or code in communes_limitrophes():
        return "paris"
    if department in IDF_DEPARTMENTS:
        return "idf"
    if department.startswith("97"):
        return None
    return "other"


def zones_of_department(department: str) -> tuple[str, ...]:
    """The zones a department's communes can be in (92, 93, 94: both Île-de-France zones)."""
    if department == "75":
        return ("paris",)
    if department in INNER_RING:
        return ("paris", "idf")
    if department in IDF_DEPARTMENTS:
        return ("idf",)
    if department.startswith("97"):
        return ()
    return ("other",)


def category(adults: int, children: int, *, disability: bool = False, young_couple: bool = False) -> int:
    """The household category of the income ceilings (arrêté du 29 juillet 1987).

    1: one person; 2: two persons without a dependant (not a young couple); 3: three
    persons, or a single person with one dependant, or a young couple without a dependant;
    4, 5, 6: four, five, six persons or a single person with two, three, four dependants.
    A household with a member holding a disability card ("carte mobilité inclusion
    invalidité") is in the category of one person more. Past 6, every person adds the
    "per extra person" amount: the category keeps counting (7, 8, ...).
    Children are the dependants; a young couple is two adults whose ages add up to 55 at
    most.
    """
    persons = adults + children
    found = persons
    if adults == 1 and children >= 1:
        found = max(found, children + 2)  # a single person with n dependants
    if young_couple and adults == 2 and children == 0:
        found = max(found, 3)
    if disability:
        found = max(found, persons + 1)
    return max(1, found)


def household_category(household: Any) -> int:
    """The category of a household (model, form values or row: adults, children,
    priority_categories; the "disability" priority is the disability card)."""
    priorities = getattr(household, "priority_categories", None)
    if priorities is None and isinstance(household, Mapping):
        priorities = household.get("priority_categories")
    get = household.get if isinstance(household, Mapping) else lambda k: getattr(household, k)
    return category(int(get("adults") or 0), int(get("children") or 0),
                    disability="disability" in (priorities or ()))


def table_for(session: so.Session, as_of: dt.date) -> CeilingTable:
    """The table in force on `as_of`: the latest year at or before it among the loaded
    tables and the shipped one (a loaded table of the shipped year replaces it); before
    every year, the earliest."""
    base = shipped()
    loaded: dict[int, dict[tuple[str, str], tuple[int, ...]]] = {}
    sources: dict[int, str] = {}
    for row in session.scalars(sa.select(IncomeCeiling).order_by(IncomeCeiling.year)):
        loaded.setdefault(row.year, {})[(row.financing, row.zone)] = row.amounts
        sources[row.year] = row.source
    years = sorted({base.year, *loaded})
    eligible = [y for y in years if y <= as_of.year]
    year = eligible[-1] if eligible else years[0]
    if year in loaded:
        return CeilingTable(year=year, source=sources[year], rows=loaded[year])
    return base


def unit_ceiling(table: CeilingTable, financing: str | None, commune: str) -> tuple[int, ...] | None:
    """The row the matching applies to a unit: its financing in its commune's zone."""
    return table.row(financing, zone_of_commune(commune))


def ceiling(row: Sequence[float], household_cat: int) -> int:
    """The ceiling of a category in a row: matching's own rule 9 amount."""
    return int(income_ceiling_for(row, household_cat))


def household_ceilings(table: CeilingTable, household: Any, departments: Iterable[str],
                       communes: Iterable[str] = ()) -> dict[str, Any]:
    """What the household form shows: her category and, for each zone she looks in, the
    ceiling of each financing (the amounts the matching applies to her)."""
    cat = household_category(household)
    zones: list[str] = []
    for code in communes:
        zone = zone_of_commune(code)
        if zone is not None:
            zones.append(zone)
    for department in departments:
        zones.extend(zones_of_department(department))
    rows = []
    for zone in CEILING_ZONES:
        if zone not in zones:
            continue
        amounts = {fin: ceiling(r, cat) for fin in CEILING_FINANCINGS
                   if (r := table.row(fin, zone)) is not None}
        rows.append({"zone": zone, "label": ZONE_LABELS[zone], "amounts": amounts})
    return {"category": cat, "year": table.year, "zones": rows}


# --- Loading a year's table ---------------------------------------------------------------

HEADER = ("annee", "financement", "zone", *COLUMNS)


def parse_csv(text: str) -> tuple[int, dict[tuple[str, str], tuple[int, ...]]]:
    """A year's table from CSV text, or a ValidationError listing every bad line and field.

    Columns: annee, financement, zone, category_1..category_6, per_extra_person (the
    header line names them). One year per file, every financing (PLAI, PLUS, PLS) in
    every zone (paris, idf, other), each once.
    """
    errors: list[str] = []
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")),
                            delimiter=";" if text.split("\n", 1)[0].count(";") else ",")
    header = tuple((h or "").strip() for h in reader.fieldnames or ())
    missing = [c for c in HEADER if c not in header]
    if missing:
        raise ValidationError({"file": [str(_l("ligne 1 : colonnes manquantes : %(cols)s",
                                               cols=", ".join(missing)))]})
    years: set[int] = set()
    rows: dict[tuple[str, str], tuple[int, ...]] = {}
    for number, raw in enumerate(reader, start=2):
        rec = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
        if not any(rec.values()):
            continue
        line_errors: list[str] = []

        def integer(field: str, rec: dict[str, str] = rec, number: int = number,
                    line_errors: list[str] = line_errors) -> int | None:
            value = rec.get(field, "").replace(" ", "").replace("\u202f", "").replace("\xa0", "")
            try:
                amount = int(value)
            except ValueError:
                line_errors.append(str(_l("ligne %(n)d, champ %(field)s : « %(value)s » n'est pas un "
                                          "nombre entier d'euros", n=number, field=field,
                                          value=rec.get(field, ""))))
                return None
            if amount < 0:
                line_errors.append(str(_l("ligne %(n)d, champ %(field)s : le montant doit être positif",
                                          n=number, field=field)))
                return None
            return amount

        year = integer("annee")
        if year is not None and not 2000 <= year <= 2100:
            line_errors.append(str(_l("ligne %(n)d, champ annee : %(year)d hors de 2000 à 2100",
                                      n=number, year=year)))
        financing = rec.get("financement", "").upper()
        if financing not in CEILING_FINANCINGS:
            line_errors.append(str(_l("ligne %(n)d, champ financement : « %(value)s » inconnu "
                                      "(PLAI, PLUS ou PLS)", n=number, value=rec.get("financement", ""))))
        zone = rec.get("zone", "").lower()
        if zone not in CEILING_ZONES:
            line_errors.append(str(_l("ligne %(n)d, champ zone : « %(value)s » inconnue "
                                      "(paris, idf ou other)", n=number, value=rec.get("zone", ""))))
        amounts = [integer(c) for c in COLUMNS]
        if not line_errors and (financing, zone) in rows:
            line_errors.append(str(_l("ligne %(n)d : %(fin)s en zone %(zone)s figure deux fois",
                                      n=number, fin=financing, zone=zone)))
        if not line_errors:
            values = [a for a in amounts if a is not None]
            if any(b < a for a, b in zip(values[:6], values[1:6], strict=False)):
                line_errors.append(str(_l("ligne %(n)d, champ category_1 à category_6 : les plafonds "
                                          "doivent croître avec la catégorie", n=number)))
        if line_errors:
            errors.extend(line_errors)
            continue
        assert year is not None
        years.add(year)
        rows[(financing, zone)] = tuple(a for a in amounts if a is not None)
    if len(years) > 1:
        errors.append(str(_l("plusieurs années dans le fichier (%(years)s) : une seule par fichier",
                             years=", ".join(str(y) for y in sorted(years)))))
    if not errors:
        absent = [f"{fin} {zone}" for fin in CEILING_FINANCINGS for zone in CEILING_ZONES
                  if (fin, zone) not in rows]
        if absent:
            errors.append(str(_l("lignes manquantes : %(rows)s (chaque financement dans chaque zone)",
                                 rows=", ".join(absent))))
    if errors:
        raise ValidationError({"file": errors})
    return years.pop(), rows


def load_csv(session: so.Session, text: str, *, source: str) -> int:
    """Replace the year's loaded table with the file's (all or nothing); returns the year.
    Flushes only: the caller commits."""
    year, rows = parse_csv(text)
    session.execute(sa.delete(IncomeCeiling).where(IncomeCeiling.year == year))
    for (financing, zone), amounts in sorted(rows.items()):
        session.add(IncomeCeiling(year=year, financing=financing, zone=zone, source=source[:300],
                                  **dict(zip(COLUMNS, amounts, strict=True))))
    session.flush()
    return year
