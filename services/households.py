"""Households an association supports: one validation path, lifecycle, reading, erasure.

The page form and the JSON API both hand their input to `validate_household_fields`, so a
rule is written once and its message (French, naming the field, and for a zone its index:
``exclusion_zones[1].radius_km``) is the same everywhere. Nothing here stores a name, a
birth date or an address: the association's own `reference` identifies the household.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache
from typing import Any

import numpy as np
import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from matching import geo
from models import Household, Organisation, User, utcnow
from models.housing import HOUSEHOLD_STATUSES, PRIORITY_CATEGORIES, PROTECTED
from services import audit, clock, messages, numbers, proposals
from services import policy as policies
from services.errors import Conflict, NotFound, ValidationError
from services.paging import Page, paginate

# The solver's default; a territory's own comes from services.policy.max_effort_rate.
DEFAULT_MAX_EFFORT_RATE = policies.DEFAULTS.max_effort_rate

# What a client may write; the platform sets the rest.
WRITABLE_FIELDS = (
    "reference", "adults", "children", "monthly_income", "housing_allowance", "reference_income",
    "needs_wheelchair_access", "needs_no_stairs", "urgency", "priority_categories", "requested_on",
    "ready_from", "search_area", "exclusion_zones", "preferred_points", "consent_recorded_on", "notes",
    "current_home",
)
SERVER_FIELDS = ("id", "public_id", "status", "association", "association_id", "activated_at",
                 "closed_at", "created_at", "updated_at")
REQUIRED_FIELDS = ("reference", "adults", "monthly_income", "urgency", "requested_on", "ready_from")
DEFAULTS: dict[str, Any] = {
    "children": 0,
    "housing_allowance": Decimal("0.00"),
    "reference_income": None,
    "needs_wheelchair_access": False,
    "needs_no_stairs": False,
    "priority_categories": [],
    "search_area": {"communes": [], "departments": []},
    "exclusion_zones": [],
    "preferred_points": [],
    "consent_recorded_on": None,
    "notes": None,
    "current_home": None,
}

# Bounds that catch typing slips (an extra zero) without refusing any real situation.
MAX_MONTHLY_MONEY = Decimal("50000")
MAX_REFERENCE_INCOME = 1_000_000
MAX_RADIUS_KM = 300.0
MAX_ZONES = 50
MAX_POINTS = 10
MAX_AREA_ITEMS = 200
MAX_NOTES = 5000
MAX_LABEL = 60
# A point farther than this (beyond its radius) from every French commune excludes no unit:
# most often latitude and longitude were swapped.
FAR_FROM_FRANCE_KM = 100.0
# The circle around a home she leaves (her current home, or the one of an urgent transfer)
# that no channel may propose in, when that home is placed (km). Its commune is excluded too.
HOME_ZONE_RADIUS_KM = 10.0
CURRENT_HOME_KEYS = ("landlord", "commune", "unit")
EARLIEST_DATE = dt.date(2000, 1, 1)
MAX_YEARS_AHEAD = 3

# Labels of the household's vocabulary, shown in pages (the API keeps the codes).
STATUS_LABELS = {
    "draft": _l("Brouillon"),
    "active": _l("Active"),
    "proposed": _l("Proposition en cours"),
    "housed": _l("Relogée"),
    "withdrawn": _l("Retirée"),
}
URGENCY_LABELS = {
    0: _l("0 — Pas d'urgence particulière"),
    1: _l("1 — À reloger dans les prochains mois"),
    2: _l("2 — Urgent : situation difficile, relogement rapide nécessaire"),
    3: _l("3 — Danger immédiat : mise en sécurité sans délai"),
}
PRIORITY_LABELS = {
    "violence": _l("Victime de violences au sein du couple ou de la famille"),
    "dalo": _l("Reconnue prioritaire DALO"),
    "disability": _l("Situation de handicap"),
    "homeless": _l("Sans logement ou hébergée"),
    "unfit_housing": _l("Logement indigne ou insalubre"),
    "overcrowding": _l("Logement suroccupé"),
    "eviction": _l("Menacée d'expulsion"),
    "shared_home": _l("Vit encore sous le même toit que l'auteur des violences"),
}
assert set(PRIORITY_LABELS) == set(PRIORITY_CATEGORIES)
assert set(STATUS_LABELS) == set(HOUSEHOLD_STATUSES)

# A reference is a file number: never a civility and a name, an e-mail, a phone, a birth date.
_LOOKS_PERSONAL = re.compile(
    r"^\s*(mmes?|madame|mlle|mademoiselle|m\.|mr|monsieur)(\s|\.|$)"  # "Mme Dupont"
    r"|@"  # an e-mail address
    r"|(?:\+33|0)\s*[1-9](?:[\s.-]*\d{2}){4}"  # a French phone number
    r"|\b\d{1,2}[/.-]\d{1,2}[/.-](?:19|20)\d{2}\b",  # a date (of birth?)
    re.IGNORECASE,
)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_FR_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


class _Errors(dict[str, list[Any]]):
    """Messages per field path, in the order found."""

    def add(self, path: str, message: Any) -> None:
        self.setdefault(path, []).append(message)


# ---------------------------------------------------------------------------------------
# Parsing one value. `text` is True for form input (everything arrives as a string).


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _number(value: Any, path: str, errors: _Errors, *, text: bool) -> float | None:
    """A finite number (JSON number; in forms also "1 380,50"), or None with an error."""
    if isinstance(value, bool):
        errors.add(path, _l("Un nombre est attendu."))
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif text and isinstance(value, str):
        # The same reading as a unit's rent (services.numbers): "1.234,50" is 1234.5 here too.
        try:
            number = float(numbers.parse_decimal(value))
        except ValueError:
            errors.add(path, _l("Un nombre est attendu."))
            return None
    else:
        errors.add(path, _l("Un nombre est attendu."))
        return None
    if not math.isfinite(number):
        errors.add(path, _l("Un nombre fini est attendu."))
        return None
    return number


def _integer(value: Any, path: str, errors: _Errors, lo: int, hi: int, *, text: bool) -> int | None:
    number = _number(value, path, errors, text=text)
    if number is None:
        return None
    if not number.is_integer():
        errors.add(path, _l("Un nombre entier est attendu."))
        return None
    if not lo <= number <= hi:
        errors.add(path, _l("La valeur doit être comprise entre %(lo)s et %(hi)s.", lo=lo, hi=hi))
        return None
    return int(number)


def _money(value: Any, path: str, errors: _Errors, *, text: bool) -> Decimal | None:
    number = _number(value, path, errors, text=text)
    if number is None:
        return None
    if number < 0:
        errors.add(path, _l("Un montant ne peut pas être négatif."))
        return None
    try:
        amount = Decimal(str(number)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        errors.add(path, _l("Un nombre est attendu."))
        return None
    if amount > MAX_MONTHLY_MONEY:
        errors.add(path, _l("Montant mensuel invraisemblable (plus de %(max)s €) : vérifiez la saisie.",
                            max=int(MAX_MONTHLY_MONEY)))
        return None
    return amount


def _date(value: Any, path: str, errors: _Errors, today: dt.date, *, text: bool,
          future_ok: bool = True) -> dt.date | None:
    """An ISO date "2026-11-20" (in forms also "20/11/2026"), within sensible bounds."""
    if not isinstance(value, str):
        errors.add(path, _l("Une date AAAA-MM-JJ est attendue."))
        return None
    raw = value.strip()
    try:
        if _ISO_DATE.match(raw):
            date = dt.date.fromisoformat(raw)
        elif text and (m := _FR_DATE.match(raw)):
            date = dt.date(int(m[3]), int(m[2]), int(m[1]))
        else:
            errors.add(path, _l("Une date AAAA-MM-JJ est attendue."))
            return None
    except ValueError:
        errors.add(path, _l("Cette date n'existe pas : %(value)s.", value=raw))
        return None
    if date < EARLIEST_DATE:
        errors.add(path, _l("Date trop ancienne : %(value)s.", value=raw))
        return None
    if not future_ok and date > today:
        errors.add(path, _l("Cette date ne peut pas être dans le futur."))
        return None
    if date > today + dt.timedelta(days=366 * MAX_YEARS_AHEAD):
        errors.add(path, _l("Date trop lointaine : %(value)s.", value=raw))
        return None
    return date


def _boolean(value: Any, path: str, errors: _Errors) -> bool | None:
    if not isinstance(value, bool):
        errors.add(path, _l("Vrai ou faux (true/false) est attendu."))
        return None
    return value


def _string(value: Any, path: str, errors: _Errors, max_len: int, *, required: bool = True) -> str | None:
    if not isinstance(value, str):
        errors.add(path, _l("Du texte est attendu."))
        return None
    stripped = value.strip()
    if required and not stripped:
        errors.add(path, _l("Champ obligatoire."))
        return None
    if len(stripped) > max_len:
        errors.add(path, _l("Au plus %(n)d caractères.", n=max_len))
        return None
    return stripped


def _commune_code(value: Any, path: str, errors: _Errors) -> str | None:
    if not isinstance(value, str) or geo.commune(value) is None:
        errors.add(path, _l("Code INSEE de commune inconnu : %(value)s.", value=value))
        return None
    return value.strip().upper()


def _department_code(value: Any, path: str, errors: _Errors) -> str | None:
    if not isinstance(value, str) or geo.department_name(value) is None:
        errors.add(path, _l("Code de département inconnu : %(value)s.", value=value))
        return None
    return value.strip().upper()


def _list(value: Any, path: str, errors: _Errors, max_len: int) -> list[Any] | None:
    if not isinstance(value, list):
        errors.add(path, _l("Une liste est attendue."))
        return None
    if len(value) > max_len:
        errors.add(path, _l("Au plus %(n)d éléments.", n=max_len))
        return None
    return value


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


@cache
def _commune_points() -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Latitudes and longitudes (radians) of every commune's point, for distance checks."""
    items = list(geo.communes().values())
    return (np.radians(np.array([c.lat for c in items])), np.radians(np.array([c.lon for c in items])))


# Side of the cells that index the communes' points (degrees).
CELL_DEGREES = 0.25


@cache
def _commune_cells() -> dict[tuple[int, int], np.ndarray[Any, Any]]:
    """Indexes of the communes' points by cell of CELL_DEGREES (latitude, longitude)."""
    lats, lons = _commune_points()
    cells: dict[tuple[int, int], list[int]] = {}
    for i, (la, lo) in enumerate(zip(np.degrees(lats).tolist(), np.degrees(lons).tolist(), strict=True)):
        cells.setdefault((math.floor(la / CELL_DEGREES), math.floor(lo / CELL_DEGREES)), []).append(i)
    return {key: np.array(value) for key, value in cells.items()}


def _nearest_km(lats: np.ndarray[Any, Any], lons: np.ndarray[Any, Any], phi: float, lam: float) -> float:
    a = np.sin((lats - phi) / 2) ** 2 + math.cos(phi) * np.cos(lats) * np.sin((lons - lam) / 2) ** 2
    return float((2 * geo.EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(a)))).min())


def distance_to_france_km(lat: float, lon: float) -> float:
    """Distance from a point to the nearest French commune's point (haversine).

    The communes of the 3 x 3 cells around the point are tried first: when the nearest
    of them is closer than anything outside those cells can be, it is the nearest of all
    (the same answer as scanning every commune, about a hundred times faster); otherwise,
    and near the antimeridian, every commune is scanned.
    """
    lats, lons = _commune_points()
    phi, lam = math.radians(lat), math.radians(lon)
    if abs(lon) < 170:
        cells = _commune_cells()
        i, j = math.floor(lat / CELL_DEGREES), math.floor(lon / CELL_DEGREES)
        near = [cells[(a, b)] for a in (i - 1, i, i + 1) for b in (j - 1, j, j + 1) if (a, b) in cells]
        if near:
            index = np.concatenate(near)
            best = _nearest_km(lats[index], lons[index], phi, lam)
            # A point outside the cells is at least a cell of latitude away, or a cell of
            # longitude (its distance to that meridian's great circle).
            one = math.radians(CELL_DEGREES)
            reach = geo.EARTH_RADIUS_KM * min(one, math.asin(min(1.0, math.cos(phi) * math.sin(one))))
            if best < reach:
                return best
    return _nearest_km(lats, lons, phi, lam)


def _coordinates(item: Mapping[str, Any], path: str, errors: _Errors, *, text: bool) -> tuple[float, float] | None:
    lat = lon = None
    if "lat" not in item or _blank(item["lat"]):
        errors.add(f"{path}.lat", _l("Latitude obligatoire."))
    elif (lat := _number(item["lat"], f"{path}.lat", errors, text=text)) is not None and not -90 <= lat <= 90:
        errors.add(f"{path}.lat", _l("La latitude doit être comprise entre -90 et 90."))
        lat = None
    if "lon" not in item or _blank(item["lon"]):
        errors.add(f"{path}.lon", _l("Longitude obligatoire."))
    elif (lon := _number(item["lon"], f"{path}.lon", errors, text=text)) is not None and not -180 <= lon <= 180:
        errors.add(f"{path}.lon", _l("La longitude doit être comprise entre -180 et 180."))
        lon = None
    if lat is None or lon is None:
        return None
    return lat, lon


def _exclusion_zone(item: Any, path: str, errors: _Errors, *, text: bool) -> dict[str, Any] | None:
    if not isinstance(item, Mapping):
        errors.add(path, _l("Une zone est un objet : {lat, lon, radius_km}, {commune} ou {department}."))
        return None
    before = len(errors)
    for key in item:
        if key not in ("lat", "lon", "radius_km", "commune", "department"):
            errors.add(f"{path}.{key}", _l("Champ inconnu dans une zone d'exclusion."))
    kinds = [kind for kind, keys in (("point", {"lat", "lon", "radius_km"}), ("commune", {"commune"}),
                                     ("department", {"department"})) if keys & set(item)]
    if len(kinds) != 1:
        errors.add(path, _l("Une zone est soit un point avec un rayon (lat, lon, radius_km), soit une commune, "
                            "soit un département : jamais un mélange."))
        return None
    if len(errors) > before:
        return None
    if kinds == ["commune"]:
        code = _commune_code(item["commune"], f"{path}.commune", errors)
        return {"commune": code} if code else None
    if kinds == ["department"]:
        code = _department_code(item["department"], f"{path}.department", errors)
        return {"department": code} if code else None
    point = _coordinates(item, path, errors, text=text)
    radius = None
    if "radius_km" not in item or _blank(item["radius_km"]):
        errors.add(f"{path}.radius_km", _l("Rayon obligatoire (en km)."))
    elif (radius := _number(item["radius_km"], f"{path}.radius_km", errors, text=text)) is not None:
        if radius <= 0:
            errors.add(f"{path}.radius_km", _l("Le rayon doit être supérieur à 0 km."))
            radius = None
        elif radius > MAX_RADIUS_KM:
            errors.add(f"{path}.radius_km", _l("Le rayon ne peut pas dépasser %(max)s km : excluez plutôt des "
                                               "départements.", max=int(MAX_RADIUS_KM)))
            radius = None
    if point is None or radius is None:
        return None
    far = distance_to_france_km(*point)
    if far > radius + FAR_FROM_FRANCE_KM:
        errors.add(path, _l("Ce point est à %(km)s km de la commune française la plus proche : vérifiez la "
                            "latitude et la longitude (inversées ?).", km=int(far)))
        return None
    return {"lat": point[0], "lon": point[1], "radius_km": radius}


def _preferred_point(item: Any, path: str, errors: _Errors, *, text: bool) -> dict[str, Any] | None:
    if not isinstance(item, Mapping):
        errors.add(path, _l("Un lieu est un objet : {lat, lon, label}."))
        return None
    before = len(errors)
    for key in item:
        if key not in ("lat", "lon", "label"):
            errors.add(f"{path}.{key}", _l("Champ inconnu dans un lieu à privilégier."))
    label = _string(item.get("label", ""), f"{path}.label", errors, MAX_LABEL)
    point = _coordinates(item, path, errors, text=text)
    if len(errors) > before or point is None or label is None:
        return None
    if distance_to_france_km(*point) > FAR_FROM_FRANCE_KM:
        errors.add(path, _l("Ce point est loin de toute commune française : vérifiez la latitude et la "
                            "longitude (inversées ?)."))
        return None
    return {"lat": point[0], "lon": point[1], "label": label}


def _search_area(value: Any, errors: _Errors) -> dict[str, list[str]] | None:
    if not isinstance(value, Mapping):
        errors.add("search_area", _l("Un objet {communes: [...], departments: [...]} est attendu."))
        return None
    before = len(errors)
    for key in value:
        if key not in ("communes", "departments"):
            errors.add(f"search_area.{key}", _l("Champ inconnu dans le secteur recherché."))
    area: dict[str, list[str]] = {"communes": [], "departments": []}
    for key, check in (("communes", _commune_code), ("departments", _department_code)):
        items = _list(value.get(key, []), f"search_area.{key}", errors, MAX_AREA_ITEMS)
        for i, code in enumerate(items or []):
            cleaned = check(code, f"search_area.{key}[{i}]", errors)
            if cleaned:
                area[key].append(cleaned)
        area[key] = _unique(area[key])
    return area if len(errors) == before else None


def _current_home(value: Any, errors: _Errors) -> dict[str, Any] | None:
    """`{landlord, commune, unit}`: the landlord's code, her commune (INSEE, may wait until
    activation), the platform's id of her unit when it is one of the platform's. None (or
    an object of blanks) says she is not a tenant of a social landlord."""
    if value is None or (isinstance(value, Mapping) and all(_blank(v) for v in value.values())):
        return None
    if not isinstance(value, Mapping):
        errors.add("current_home", _l("Un objet {landlord, commune, unit} est attendu."))
        return None
    before = len(errors)
    for key in value:
        if key not in CURRENT_HOME_KEYS:
            errors.add(f"current_home.{key}", _l("Champ inconnu dans le logement actuel."))
    landlord = _string(value.get("landlord"), "current_home.landlord", errors, 32)
    commune = unit = None
    if not _blank(value.get("commune")):
        commune = _commune_code(value["commune"], "current_home.commune", errors)
    if not _blank(value.get("unit")):
        unit = _string(value["unit"], "current_home.unit", errors, 32)
    if len(errors) > before:
        return None
    return {"landlord": landlord, "commune": commune, "unit": unit}


def home_zones(commune: str, lat: Any = None, lon: Any = None,
               radius_km: float = HOME_ZONE_RADIUS_KM) -> list[dict[str, Any]]:
    """The exclusion zones that keep her away from a home: its commune, and a circle around
    it when it is placed."""
    zones: list[dict[str, Any]] = [{"commune": commune}]
    if lat is not None and lon is not None:
        zones.append({"lat": float(lat), "lon": float(lon), "radius_km": radius_km})
    return zones


def current_unit(home: Mapping[str, Any] | None) -> str | None:
    """The platform's id of the unit she lives in now, never to be proposed to her."""
    return (home or {}).get("unit") or None


def _settle_home(session: so.Session, values: dict[str, Any], previous: Mapping[str, Any] | None,
                 zones: list[dict[str, Any]]) -> None:
    """Check a newly recorded current home against the platform, and add the zones around
    it to her exclusion zones (`values` gets both; the referent may remove a zone later:
    the zones are a default, her current unit is never proposed whatever she keeps).

    :raise ValidationError: unknown landlord, or a unit that is not that landlord's.
    """
    from models import Unit  # a household's service reads a unit only here

    home = values.get("current_home")
    if home is None or home == previous:
        return
    landlord = session.scalar(sa.select(Organisation).where(Organisation.code == home["landlord"],
                                                            Organisation.kind == "landlord"))
    if landlord is None:
        raise ValidationError(_l("Bailleur inconnu : %(code)s.", code=home["landlord"]), field="current_home.landlord")
    lat = lon = None
    if home["unit"]:
        unit = session.scalar(sa.select(Unit).where(Unit.public_id == home["unit"], Unit.landlord_id == landlord.id))
        if unit is None:
            raise ValidationError(_l("Ce logement n'est pas un logement de ce bailleur sur la plateforme : "
                                     "%(id)s.", id=home["unit"]), field="current_home.unit")
        home = values["current_home"] = {**home, "commune": home["commune"] or unit.commune}
        lat, lon = unit.lat, unit.lon
    if home["commune"]:
        zones = list(zones)
        zones += [z for z in home_zones(home["commune"], lat, lon) if z not in zones]
        values["exclusion_zones"] = zones


def _check_reference(value: Any, errors: _Errors) -> str | None:
    reference = _string(value, "reference", errors, 80)
    if reference and _LOOKS_PERSONAL.search(reference):
        errors.add("reference", _l("La référence ne doit contenir ni nom, ni adresse e-mail, ni téléphone, ni "
                                   "date : utilisez votre numéro de dossier."))
        return None
    return reference


def _parse_field(name: str, value: Any, errors: _Errors, today: dt.date, text: bool) -> Any:
    """The cleaned value of one writable field (None after adding an error, or for an empty optional)."""
    optional = ("reference_income", "consent_recorded_on", "notes")
    if name in optional and _blank(value):
        return None
    if name in REQUIRED_FIELDS and _blank(value):
        errors.add(name, _l("Champ obligatoire."))
        return None
    if name == "reference":
        return _check_reference(value, errors)
    if name == "adults":
        adults = _integer(value, name, errors, -(10**6), 10, text=text)
        if adults is not None and adults < 1:
            errors.add(name, _l("Le ménage compte au moins un adulte."))
            return None
        return adults
    if name == "children":
        return 0 if text and _blank(value) else _integer(value, name, errors, 0, 15, text=text)
    if name in ("monthly_income", "housing_allowance"):
        if text and _blank(value):
            return Decimal("0.00")
        return _money(value, name, errors, text=text)
    if name == "reference_income":
        return _integer(value, name, errors, 0, MAX_REFERENCE_INCOME, text=text)
    if name in ("needs_wheelchair_access", "needs_no_stairs"):
        return _boolean(value, name, errors)
    if name == "urgency":
        return _integer(value, name, errors, 0, 3, text=text)
    if name == "priority_categories":
        items = _list(value, name, errors, len(PRIORITY_CATEGORIES))
        if items is None:
            return None
        bad = [c for c in items if c not in PRIORITY_CATEGORIES]
        for c in bad:
            errors.add(name, _l("Catégorie inconnue : %(value)s.", value=c))
        return None if bad else _unique(items)
    if name == "requested_on":
        return _date(value, name, errors, today, text=text, future_ok=False)
    if name == "ready_from":
        return _date(value, name, errors, today, text=text)
    if name == "consent_recorded_on":
        return _date(value, name, errors, today, text=text, future_ok=False)
    if name == "search_area":
        return _search_area(value, errors)
    if name == "exclusion_zones":
        items = _list(value, name, errors, MAX_ZONES)
        zones = [_exclusion_zone(z, f"{name}[{i}]", errors, text=text) for i, z in enumerate(items or [])]
        return None if items is None or None in zones else zones
    if name == "preferred_points":
        items = _list(value, name, errors, MAX_POINTS)
        points = [_preferred_point(p, f"{name}[{i}]", errors, text=text) for i, p in enumerate(items or [])]
        return None if items is None or None in points else points
    if name == "notes":
        return _string(value, name, errors, MAX_NOTES, required=False) or None
    if name == "current_home":
        return _current_home(value, errors)
    raise AssertionError(name)  # pragma: no cover


def _consistency(values: Mapping[str, Any], errors: _Errors) -> None:
    """Rules across fields: a place searched for cannot also be excluded."""
    area = values.get("search_area") or {}
    zones = values.get("exclusion_zones") or []
    excluded_communes = {z["commune"] for z in zones if "commune" in z}
    excluded_departments = {z["department"] for z in zones if "department" in z}
    for i, code in enumerate(area.get("communes", [])):
        if code in excluded_communes or geo.department_of(code) in excluded_departments:
            errors.add(f"search_area.communes[{i}]", _l("Cette commune est aussi une zone d'exclusion : %(code)s.",
                                                        code=code))
    for i, code in enumerate(area.get("departments", [])):
        if code in excluded_departments:
            errors.add(f"search_area.departments[{i}]",
                       _l("Ce département est aussi une zone d'exclusion : %(code)s.", code=code))
    if values.get("status") not in (None, "draft", "withdrawn") and "consent_recorded_on" in values \
            and values["consent_recorded_on"] is None:
        errors.add("consent_recorded_on", _l("Une demande active garde la date de son consentement."))
    if values.get("status") not in (None, "draft", "withdrawn"):
        _shared_home_guard(values, errors)


SHARED_HOME_NEEDS_ZONE = _l(
    "Elle vit encore sous le même toit que l'auteur des violences : indiquez au moins une zone "
    "d'exclusion (autour de son logement actuel) avant d'activer la demande.")


CURRENT_HOME_NEEDS_COMMUNE = _l(
    "Elle est locataire d'un bailleur social : indiquez la commune de son logement actuel avant d'activer "
    "la demande, pour que rien ne lui soit proposé autour.")


def _shared_home_guard(values: Mapping[str, Any], errors: _Errors) -> None:
    """An active file of a woman still living with the aggressor must exclude somewhere, and
    a tenant's current home must be located.

    Without a zone the solver may propose a unit next door to the home she is leaving (the
    platform stores no address, so the zone is the only thing that keeps her away).
    """
    if "shared_home" in (values.get("priority_categories") or []) and not values.get("exclusion_zones"):
        errors.add("exclusion_zones", SHARED_HOME_NEEDS_ZONE)
    home = values.get("current_home")
    if home and not home.get("commune"):
        errors.add("current_home.commune", CURRENT_HOME_NEEDS_COMMUNE)


def validate_household_fields(data: Any, *, partial: bool = False, text: bool = False,
                              today: dt.date | None = None) -> dict[str, Any]:
    """Check a household's fields (contract names) and return them cleaned, or raise ValidationError.

    :param partial: only the given fields (an edit); otherwise the required ones must be there
        and the others take their defaults.
    :param text: the values come from a form, as text ("1 380,50", "20/11/2026").
    :raise ValidationError: ``errors`` maps each faulty field path to its French messages.
    """
    today = today or clock.today()
    if not isinstance(data, Mapping):
        raise ValidationError(_l("Un objet JSON est attendu."), field="_schema")
    errors = _Errors()
    cleaned: dict[str, Any] = {}
    for key, value in data.items():
        if key in SERVER_FIELDS:
            errors.add(str(key), _l("Ce champ est fixé par la plateforme : ne l'envoyez pas."))
        elif key not in WRITABLE_FIELDS:
            errors.add(str(key), _l("Champ inconnu."))
        else:
            value = _parse_field(key, value, errors, today, text)
            if key not in errors:
                cleaned[key] = value
    if not partial:
        for key in REQUIRED_FIELDS:
            if key not in data:
                errors.add(key, _l("Champ obligatoire."))
        for key, default in DEFAULTS.items():
            cleaned.setdefault(key, default)
        _consistency(cleaned, errors)
    if errors:
        raise ValidationError(dict(errors))
    return cleaned


# ---------------------------------------------------------------------------------------
# Lifecycle.


def check_reference_free(session: so.Session, association_id: int, reference: str, exclude: int | None) -> None:
    """Refuse a file number the association already uses for another household."""
    stmt = sa.select(Household.id).where(Household.association_id == association_id,
                                         Household.reference == reference)
    if exclude is not None:
        stmt = stmt.where(Household.id != exclude)
    if session.scalar(stmt) is not None:
        raise Conflict(_l("Vous avez déjà un ménage avec cette référence : %(ref)s.", ref=reference),
                       field="reference")


def _audit(session: so.Session, action: str, household: Household, actor: User | None) -> None:
    audit.record(session, action, actor=actor, object_type="household", object_id=household.public_id)


def create_household(session: so.Session, association: Organisation, data: Any, *, actor: User | None,
                     text: bool = False) -> Household:
    """A new draft household of the association, from validated fields."""
    values = validate_household_fields(data, text=text)
    check_reference_free(session, association.id, values["reference"], None)
    _settle_home(session, values, None, values["exclusion_zones"])
    household = Household(association=association, status="draft", **values)
    session.add(household)
    session.flush()
    _audit(session, "household.create", household, actor)
    return household


def import_households(session: so.Session, association: Organisation, rows: Iterable[Any], *,
                      actor: User | None, activate: bool = False) -> int:
    """Create many households of the association at once: every row or none. The count.

    Each row goes through `validate_household_fields` (the form's and the API's rules);
    references must be new (in the rows and among the association's households). Only
    then are all households added in one flush, with ONE audit event ``household.import``
    for the whole batch: object ``household_import``, id ``<association code>:<count>``
    (the count, never anything about a household).

    :param activate: the rows are activated at once (each must then carry
        ``consent_recorded_on``); one more event, ``household.activate``, for the batch.
    :raise ValidationError: ``errors`` maps ``rows[i].<field>`` (``i`` from 0, as given) to
        its French messages; nothing is added.
    """
    today = clock.today()
    errors = _Errors()
    cleaned: list[dict[str, Any]] = []
    existing = set(session.scalars(sa.select(Household.reference)
                                   .where(Household.association_id == association.id)))
    first: dict[str, int] = {}
    for i, row in enumerate(rows):
        try:
            values = validate_household_fields(row, today=today)
            _settle_home(session, values, None, values["exclusion_zones"])
        except ValidationError as exc:
            for path, messages in exc.errors.items():
                for message in messages if isinstance(messages, list) else [messages]:
                    errors.add(f"rows[{i}].{path}", message)
            continue
        reference = values["reference"]
        if reference in existing:
            errors.add(f"rows[{i}].reference",
                       _l("Vous avez déjà un ménage avec cette référence : %(ref)s.", ref=reference))
        elif reference in first:
            errors.add(f"rows[{i}].reference", _l("Référence %(ref)s déjà présente dans rows[%(index)d].",
                                                   ref=reference, index=first[reference]))
        else:
            first[reference] = i
        if activate and values["consent_recorded_on"] is None:
            errors.add(f"rows[{i}].consent_recorded_on",
                       _l("Le consentement de la personne est nécessaire pour activer la demande : "
                          "indiquez la date à laquelle il a été recueilli."))
        if activate:
            guard = _Errors()
            _shared_home_guard(values, guard)
            for path, messages in guard.items():
                for message in messages:
                    errors.add(f"rows[{i}].{path}", message)
        cleaned.append(values)
    if errors:
        raise ValidationError(dict(errors))
    now = utcnow()
    extra: dict[str, Any] = {"status": "active", "activated_at": now} if activate else {"status": "draft"}
    session.add_all([Household(association=association, **extra, **values) for values in cleaned])
    session.flush()
    batch = f"{association.code}:{len(cleaned)}"
    audit.record(session, "household.import", actor=actor, object_type="household_import", object_id=batch)
    if activate:
        audit.record(session, "household.activate", actor=actor, object_type="household_import", object_id=batch)
    return len(cleaned)


def update_household(session: so.Session, household: Household, data: Any, *, actor: User | None,
                     text: bool = False, partial: bool = True) -> Household:
    """Change some fields of a household (every field with `partial=False`, as the page form does)."""
    if household.status == "housed":
        raise Conflict(_l("Ce ménage est relogé : sa demande ne peut plus être modifiée."), field="status")
    values = validate_household_fields(data, partial=partial, text=text)
    merged = {name: getattr(household, name) for name in WRITABLE_FIELDS}
    _settle_home(session, values, household.current_home, values.get("exclusion_zones", merged["exclusion_zones"]))
    merged.update(values, status=household.status)
    errors = _Errors()
    _consistency(merged, errors)
    if errors:
        raise ValidationError(dict(errors))
    if "reference" in values:
        check_reference_free(session, household.association_id, values["reference"], household.id)
    for name, value in values.items():
        setattr(household, name, value)
    session.flush()
    _audit(session, "household.update", household, actor)
    # A new exclusion zone (or any change of her needs) must reach the proposals still open.
    from services.safety import recheck_open_proposals

    recheck_open_proposals(session, household=household, actor=actor)
    return household


def activate_household(session: so.Session, household: Household, *, actor: User | None,
                       data: Any = None, text: bool = False) -> Household:
    """Draft (or withdrawn) to active: only with her consent, recorded as a date.

    `data` may carry ``{"consent_recorded_on": "2026-11-20"}``.
    """
    data = {} if data is None else data
    if not isinstance(data, Mapping):
        raise ValidationError(_l("Un objet JSON est attendu."), field="_schema")
    errors = _Errors()
    for key in data:
        if key != "consent_recorded_on":
            errors.add(str(key), _l("Champ inconnu."))
    consent = household.consent_recorded_on
    if not _blank(data.get("consent_recorded_on")):
        consent = _date(data["consent_recorded_on"], "consent_recorded_on", errors, clock.today(), text=text,
                        future_ok=False)
    if not errors and consent is None:
        errors.add("consent_recorded_on", _l("Le consentement de la personne est nécessaire pour activer la "
                                             "demande : indiquez la date à laquelle il a été recueilli."))
    _shared_home_guard({"priority_categories": household.priority_categories,
                        "exclusion_zones": household.exclusion_zones, "current_home": household.current_home},
                       errors)
    if errors:
        raise ValidationError(dict(errors))
    if household.status not in ("draft", "withdrawn"):
        raise Conflict(_l("Cette demande est déjà active."), field="status")
    household.consent_recorded_on = consent
    household.status = "active"
    household.activated_at = utcnow()
    household.closed_at = None
    session.flush()
    _audit(session, "household.activate", household, actor)
    return household


def withdraw_household(session: so.Session, household: Household, *, actor: User | None,
                       base_url: str = "") -> Household:
    """Take a draft, active or proposed request out of matching (it can be activated again).

    Her proposals still open (or the lease offered to her) are cancelled first, both sides
    told (`services.proposals.cancel_all`); a lease she was offered passes to the unit's
    next-ranked candidate.
    """
    if household.status == "proposed":
        proposals.cancel_all(session, actor, household=household, base_url=base_url)
    if household.status not in ("draft", "active"):
        raise Conflict(_l("Cette demande est déjà close."), field="status")
    household.status = "withdrawn"
    household.closed_at = utcnow()
    session.flush()
    _audit(session, "household.withdraw", household, actor)
    return household


def erase_household(session: so.Session, household: Household, *, actor: User | None,
                    base_url: str = "") -> str:
    """Delete the household and its proposals; only an audit entry without personal data remains.

    Her proposals still open are cancelled first, both sides told, as on a withdrawal: the
    landlord hears that a proposal is cancelled, not that she was erased.
    """
    if household.status == "proposed":
        proposals.cancel_all(session, actor, household=household, base_url=base_url)
    if household.status == "proposed":
        # Something still holds her (another transaction moved a proposal meanwhile): say so
        # rather than delete under it.
        raise Conflict(_l("Une proposition est en cours : répondez-y avant d'effacer le ménage."), field="status")
    public_id = household.public_id
    # Proposals (and their decisions) go with it: ON DELETE CASCADE in the database.
    session.delete(household)
    session.flush()
    _audit_erased(session, public_id, actor)
    return public_id


def _audit_erased(session: so.Session, public_id: str, actor: User | None) -> None:
    audit.record(session, "household.erase", actor=actor, object_type="household", object_id=public_id)


def record_sensitive_read(session: so.Session, households: Iterable[Household], *, actor: User | None) -> None:
    """Log that someone read where households must never be housed (who read what)."""
    audit.record_many(session, "household.read_sensitive", (h.public_id for h in households),
                      actor=actor, object_type="household")


# ---------------------------------------------------------------------------------------
# Reading.


def get_household(session: so.Session, public_id: str, *, association: Organisation | None,
                  within: sa.ColumnElement[bool] | None = None) -> Household:
    """The household with this public id, within the association's reach (None: any).

    :param within: a further where-clause, the reader's reach (a coordinator's territory:
        `services.territory.households`); outside it, the answer is NotFound as for no household.
    """
    stmt = sa.select(Household).where(Household.public_id == public_id)
    if association is not None:
        stmt = stmt.where(Household.association_id == association.id)
    if within is not None:
        stmt = stmt.where(within)
    household = session.scalar(stmt)
    if household is None:
        raise NotFound(_l("Ménage introuvable."), field="id")
    return household


def list_households(session: so.Session, *, association: Organisation | None = None,
                    statuses: Iterable[str] | None = None, department: str | None = None,
                    reference: str | None = None, protected: bool = False,
                    within: sa.ColumnElement[bool] | None = None,
                    page: int = 1, per_page: int = 25) -> Page[Household]:
    """One page of households, most urgent and longest waiting first.

    :param reference: part of the association's file number.
    :param protected: load the encrypted columns too (zones, points, notes), for a reader
        who is shown them; otherwise they stay in the database until read one by one.
    :param department: households searching there: their search area names it (or one of its
        communes), or is empty (anywhere).
    :param within: a further where-clause, the reader's reach (a coordinator's territory:
        `services.territory.households`).
    """
    stmt = sa.select(Household)
    if association is not None:
        stmt = stmt.where(Household.association_id == association.id)
    if within is not None:
        stmt = stmt.where(within)
    if statuses is not None:
        stmt = stmt.where(Household.status.in_(list(statuses)))
    if reference and reference.strip():
        stmt = stmt.where(Household.reference.icontains(reference.strip(), autoescape=True))
    if department:
        department = department.strip().upper()
        # The search area is JSON: filtered here rather than in SQL, the same on every backend.
        rows = session.execute(stmt.with_only_columns(Household.id, Household.search_area)).all()
        ids = [row.id for row in rows if _searches_in(row.search_area or {}, department)]
        stmt = stmt.where(Household.id.in_(ids))
    if protected:
        stmt = stmt.options(so.undefer_group(PROTECTED))
    stmt = stmt.order_by(Household.urgency.desc(), Household.requested_on, Household.id)
    return paginate(session, stmt, page, per_page)


def _searches_in(area: Mapping[str, list[str]], department: str) -> bool:
    communes, departments = area.get("communes", []), area.get("departments", [])
    if not communes and not departments:
        return True
    return department in departments or any(geo.department_of(c) == department for c in communes)


def waiting_days(household: Household, today: dt.date | None = None) -> int | None:
    """Days since the request, while it is open (None once housed or withdrawn)."""
    if household.status in ("housed", "withdrawn"):
        return None
    return max(0, ((today or clock.today()) - household.requested_on).days)


def max_rent(monthly_income: Decimal | float, housing_allowance: Decimal | float,
             rate: float = DEFAULT_MAX_EFFORT_RATE) -> Decimal:
    """The highest rent + charges she can bear: rate × income, plus the housing allowance."""
    amount = Decimal(str(rate)) * Decimal(str(monthly_income)) + Decimal(str(housing_allowance))
    return amount.quantize(Decimal("1"), rounding=ROUND_DOWN)


# ---------------------------------------------------------------------------------------
# Saying the zones in words (forms, pages): a referent checks them before saving.


def _km(value: float) -> str:
    """A distance in the reader's language ("2,5" in French, "2.5" in English)."""
    return messages.number(value)


def _commune_words(code: str) -> str:
    found = geo.commune(code)
    return f"{found.name} ({code})" if found else code


def _department_words(code: str) -> str:
    return f"{geo.department_name(code) or code} ({code})"


@cache
def _centres() -> dict[tuple[float, float], geo.Commune]:
    return {(c.lat, c.lon): c for c in geo.communes().values()}


def point_as_commune(zone: Mapping[str, Any]) -> tuple[geo.Commune, float] | None:
    """For a point zone made from "commune + distance": that commune and the distance typed."""
    found = _centres().get((zone["lat"], zone["lon"]))
    if found is None or zone["radius_km"] < found.radius_km:
        return None
    return found, max(0.0, zone["radius_km"] - found.radius_km)


def commune_point_zone(commune: geo.Commune, distance_km: float) -> dict[str, Any]:
    """The disc that keeps `distance_km` away from every point of the commune.

    The commune's point is its centre and `radius_km` covers all of it, so a circle of
    distance + commune radius around the centre contains everything within the distance
    of the commune (rounded up, never down).
    """
    radius = math.ceil((distance_km + commune.radius_km) * 1000) / 1000
    return {"lat": commune.lat, "lon": commune.lon, "radius_km": radius}


def describe_exclusion_zones(zones: Iterable[Mapping[str, Any]]) -> list[str]:
    """Each zone as a French sentence: "Jamais à moins de 10 km de Roubaix (59512)"."""
    words = []
    for zone in zones:
        if "commune" in zone:
            words.append(str(_l("Jamais à %(place)s", place=_commune_words(zone["commune"]))))
        elif "department" in zone:
            words.append(str(_l("Jamais dans le département %(place)s", place=_department_words(zone["department"]))))
        elif (as_commune := point_as_commune(zone)) is not None:
            commune, distance = as_commune
            words.append(str(_l("Jamais à moins de %(km)s km de %(place)s (cercle de %(radius)s km autour de son "
                                "centre)", km=_km(distance), place=f"{commune.name} ({commune.code})",
                                radius=_km(zone["radius_km"]))))
        else:
            words.append(str(_l("Jamais à moins de %(km)s km du point %(lat)s, %(lon)s", km=_km(zone["radius_km"]),
                                lat=f"{zone['lat']:.5f}", lon=f"{zone['lon']:.5f}")))
    return words


def landlord_choices(session: so.Session, departments: Iterable[str]) -> list[tuple[str, str]]:
    """The landlords working in these departments, `(code, name)` by name: where she may rent now."""
    wanted = set(departments)
    rows = session.execute(sa.select(Organisation.code, Organisation.name, Organisation.departments)
                           .where(Organisation.kind == "landlord").order_by(Organisation.name, Organisation.code))
    return [(code, name) for code, name, deps in rows if not wanted or wanted & set(deps or [])]


def describe_current_home(session: so.Session, home: Mapping[str, Any] | None) -> str | None:
    """Her current tenancy in words, for her association only ("Locataire de … à Roubaix (59512)")."""
    if not home:
        return None
    name = session.scalar(sa.select(Organisation.name).where(Organisation.code == home.get("landlord"))) \
        or home.get("landlord")
    place = _commune_words(home["commune"]) if home.get("commune") else str(_l("commune à préciser"))
    text = str(_l("Locataire de %(landlord)s à %(place)s : ce logement ne lui sera jamais proposé.",
                  landlord=name, place=place))
    if home.get("unit"):
        text += " " + str(_l("(logement %(id)s de la plateforme)", id=home["unit"]))
    return text


def describe_search_area(area: Mapping[str, list[str]] | None) -> list[str]:
    """The communes and departments she looks in, in words (empty: anywhere)."""
    area = area or {}
    return [_commune_words(c) for c in area.get("communes", [])] + [
        str(_l("département %(place)s", place=_department_words(d))) for d in area.get("departments", [])]


def describe_preferred_points(points: Iterable[Mapping[str, Any]]) -> list[str]:
    """Each preferred place: its label and where it is."""
    words = []
    for point in points:
        found = _centres().get((point["lat"], point["lon"]))
        where = f"{found.name} ({found.code})" if found else f"{point['lat']:.5f}, {point['lon']:.5f}"
        words.append(f"{point['label']} : {where}")
    return words
