"""Units a landlord offers: the one validation of their fields, their life cycle, the import.

Every way in — the page's form, the JSON API, a spreadsheet — goes through
`validate_unit_fields`, so a rule is written once. It accepts typed values (from the
API) and text as people type it (form, CSV: "48,5", "oui", "01/12/2026").

Location and safety: a unit's place decides which exclusion zones it falls in (matching
contract, rule 5). Coordinates given by the landlord must lie in the unit's commune;
without them the commune's point is used and `location_uncertainty_km` becomes the
commune's radius, so that an exclusion zone is checked against the whole commune.

Life cycle (`models.housing.UNIT_STATUSES`):

- `draft` -> `published` (publish); `withdrawn` -> `published` (publish again).
- `draft` | `published` | `proposed` -> `withdrawn` (withdraw). A `proposed` unit's open
  proposals (and a lease offered but not signed) are cancelled in the same transaction,
  both sides told (`services.proposals.cancel_all`). An `allocated` unit is let: 409.
- Editing: `draft`, `published` and `withdrawn` units. A `proposed` or `allocated` unit is
  read-only: changing its place or rent would silently invalidate a proposal that was
  checked against the household's exclusion zones and rent burden.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from matching import geo
from models import Organisation, Unit, User, utcnow
from models.housing import FINANCINGS, MAX_STAY_DAYS, UNIT_STATUSES
from services import audit, clock, communes, imports, proposal_flow, proposals
from services.errors import Conflict, NotFound, ValidationError
from services.imports import Column, ImportRejected, RowError
from services.paging import Page, paginate

# The contract's fields a landlord sets (the server sets id, status, landlord, department),
# and whether the unit is an emergency or temporary place, with its maximum stay.
FIELDS = (
    "reference", "commune", "lat", "lon", "location_uncertainty_km", "rooms", "surface_m2",
    "floor", "elevator", "wheelchair_accessible", "rent", "charges", "financing", "in_qpv",
    "available_from", "temporary", "max_stay_days",
)
REQUIRED = ("reference", "commune", "rooms", "rent", "available_from")
EDITABLE_STATUSES = ("draft", "published", "withdrawn")
PUBLISHABLE_STATUSES = ("draft", "withdrawn")
WITHDRAWABLE_STATUSES = ("draft", "published", "proposed")  # proposed: its proposals are cancelled

ROOMS_MIN, ROOMS_MAX = 1, 20
FLOOR_MIN, FLOOR_MAX = -5, 80
SURFACE_MIN, SURFACE_MAX = Decimal("9"), Decimal("1000")
RENT_MAX, CHARGES_MAX = Decimal("5000"), Decimal("2000")
UNCERTAINTY_MAX = 100.0
REFERENCE_MAX = 80
EARLIEST_AVAILABILITY = dt.date(2000, 1, 1)
AVAILABILITY_HORIZON_YEARS = 5
# Coordinates may lie this far outside the disc that covers their commune (rounding, GPS).
COORDINATE_TOLERANCE_KM = 1.0
CENT = Decimal("0.01")

STATUS_LABELS = {
    "draft": _l("Brouillon"),
    "published": _l("Publié"),
    "proposed": _l("Proposé"),
    "allocated": _l("Attribué"),
    "withdrawn": _l("Retiré"),
}
FIELD_LABELS = {
    "reference": _l("Référence"),
    "commune": _l("Commune"),
    "lat": _l("Latitude"),
    "lon": _l("Longitude"),
    "location_uncertainty_km": _l("Incertitude de localisation (km)"),
    "rooms": _l("Pièces principales"),
    "surface_m2": _l("Surface (m²)"),
    "floor": _l("Étage"),
    "elevator": _l("Ascenseur"),
    "wheelchair_accessible": _l("Accessible en fauteuil roulant"),
    "rent": _l("Loyer (€ / mois)"),
    "charges": _l("Charges (€ / mois)"),
    "financing": _l("Financement"),
    "in_qpv": _l("En QPV"),
    "available_from": _l("Disponible le"),
    "temporary": _l("Place d'urgence ou temporaire"),
    "max_stay_days": _l("Durée maximale du séjour (jours)"),
}
TYPOLOGIES = (1, 2, 3, 4, 5, 6)  # T6 means "T6 and more"
MAX_PAGE = 100_000  # far beyond any list; keeps OFFSET within the database's integers


#: What `models.base.new_public_id` gives: a prefix and URL-safe base64.
_PUBLIC_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def typology(rooms: int) -> str:
    """"T3" for 3 main rooms, "T6+" from 6."""
    return "T6+" if rooms >= 6 else f"T{rooms}"


# -- validation ---------------------------------------------------------------------------


def _blank(value: object) -> bool:
    return imports.is_blank(value)


def _number(errors: dict[str, list[Any]], name: str, value: object, lo: Decimal, hi: Decimal,
            message: Any) -> Decimal | None:
    try:
        number = imports.parse_decimal(value)
    except ValueError:
        errors.setdefault(name, []).append(_l("Nombre attendu (par exemple 412,50)."))
        return None
    if not number.is_finite() or not lo <= number <= hi:
        errors.setdefault(name, []).append(message)
        return None
    return number


def _integer(errors: dict[str, list[Any]], name: str, value: object, lo: int, hi: int,
             message: Any) -> int | None:
    try:
        number = imports.parse_int(value)
    except ValueError:
        errors.setdefault(name, []).append(_l("Nombre entier attendu."))
        return None
    if not lo <= number <= hi:
        errors.setdefault(name, []).append(message)
        return None
    return number


def _boolean(errors: dict[str, list[Any]], name: str, value: object) -> bool:
    if _blank(value):
        return False
    try:
        return imports.parse_bool(value)
    except ValueError:
        errors.setdefault(name, []).append(_l("Oui ou non attendu."))
        return False


def validate_unit_fields(data: Mapping[str, Any], *, today: dt.date | None = None) -> dict[str, Any]:
    """Check and normalise a unit's fields; every rule on them lives here.

    `data` holds the landlord-set fields (`FIELDS`), typed or as text. Absent optional
    fields take their defaults; `lat`/`lon` absent means "at the commune's point".

    :return: the cleaned fields plus `department`, ready for the model.
    :raise ValidationError: `{field: [messages]}` naming every bad field.
    """
    today = today or clock.today()
    errors: dict[str, list[Any]] = {}
    clean: dict[str, Any] = {}

    unknown = sorted(set(data) - set(FIELDS))
    for name in unknown:
        errors[name] = [_l("Champ inconnu ou fixé par la plateforme.")]

    for name in REQUIRED:
        if _blank(data.get(name)):
            errors[name] = [_l("Ce champ est obligatoire.")]

    reference = data.get("reference")
    if not _blank(reference):
        text = str(reference).strip()
        if len(text) > REFERENCE_MAX:
            errors["reference"] = [_l("%(n)d caractères au plus.", n=REFERENCE_MAX)]
        elif any(ord(c) < 32 for c in text):
            errors["reference"] = [_l("Caractères de contrôle interdits.")]
        else:
            clean["reference"] = text

    place = None
    if not _blank(data.get("commune")):
        try:
            place = communes.resolve(data["commune"])
        except ValidationError as exc:
            errors["commune"] = [exc.message]
        else:
            clean["commune"] = place.code
            clean["department"] = place.department

    rooms = data.get("rooms")
    if isinstance(rooms, str) and re.fullmatch(r"\s*[Tt]\s*\d+\s*\+?\s*", rooms):
        rooms = rooms.strip()[1:].rstrip("+ ")  # "T3" as landlords write it; "T6+" is 6
    if not _blank(rooms):
        clean["rooms"] = _integer(errors, "rooms", rooms, ROOMS_MIN, ROOMS_MAX,
                                  _l("Entre %(lo)d et %(hi)d pièces.", lo=ROOMS_MIN, hi=ROOMS_MAX))
    surface = data.get("surface_m2")
    clean["surface_m2"] = None
    if not _blank(surface):
        number = _number(errors, "surface_m2", surface, SURFACE_MIN, SURFACE_MAX,
                         _l("Entre 9 et 1000 m²."))
        clean["surface_m2"] = float(number) if number is not None else None
    floor = data.get("floor")
    clean["floor"] = 0
    if not _blank(floor):
        clean["floor"] = _integer(errors, "floor", floor, FLOOR_MIN, FLOOR_MAX,
                                  _l("Entre %(lo)d et %(hi)d (0 = rez-de-chaussée).", lo=FLOOR_MIN, hi=FLOOR_MAX))
    for name in ("elevator", "wheelchair_accessible", "in_qpv"):
        clean[name] = _boolean(errors, name, data.get(name))

    if not _blank(data.get("rent")):
        number = _number(errors, "rent", data["rent"], Decimal(0), RENT_MAX,
                         _l("Le loyer doit être compris entre 0 et %(max)s €.", max=RENT_MAX))
        clean["rent"] = number.quantize(CENT, ROUND_HALF_UP) if number is not None else None
    clean["charges"] = Decimal("0.00")
    if not _blank(data.get("charges")):
        number = _number(errors, "charges", data["charges"], Decimal(0), CHARGES_MAX,
                         _l("Les charges doivent être comprises entre 0 et %(max)s €.", max=CHARGES_MAX))
        clean["charges"] = number.quantize(CENT, ROUND_HALF_UP) if number is not None else None

    financing = data.get("financing")
    clean["financing"] = None
    if not _blank(financing):
        code = str(financing).strip().upper()
        if code in FINANCINGS:
            clean["financing"] = code
        else:
            errors["financing"] = [_l("Financement inconnu : choisissez %(choices)s.",
                                      choices=", ".join(FINANCINGS))]

    available = data.get("available_from")
    if not _blank(available):
        try:
            day = imports.parse_date(available)
        except ValueError:
            errors["available_from"] = [_l("Date invalide : JJ/MM/AAAA ou AAAA-MM-JJ, et une date qui existe.")]
        else:
            latest = dt.date(today.year + AVAILABILITY_HORIZON_YEARS, 12, 31)
            if not EARLIEST_AVAILABILITY <= day <= latest:
                errors["available_from"] = [_l("Date hors des limites (du %(lo)s au %(hi)s).",
                                               lo=EARLIEST_AVAILABILITY.strftime("%d/%m/%Y"),
                                               hi=latest.strftime("%d/%m/%Y"))]
            else:
                clean["available_from"] = day

    _validate_stay(data, errors, clean)
    _validate_location(data, place, errors, clean)

    if errors:
        raise ValidationError(errors)
    return clean


def _validate_location(data: Mapping[str, Any], place: communes.Commune | None,
                       errors: dict[str, list[Any]], clean: dict[str, Any]) -> None:
    """Coordinates in the commune, or the commune's point with its radius as uncertainty."""
    lat_raw, lon_raw = data.get("lat"), data.get("lon")
    lat = lon = None
    if not _blank(lat_raw):
        number = _number(errors, "lat", lat_raw, Decimal(-90), Decimal(90), _l("Entre -90 et 90 degrés."))
        lat = float(number) if number is not None else None
    if not _blank(lon_raw):
        number = _number(errors, "lon", lon_raw, Decimal(-180), Decimal(180), _l("Entre -180 et 180 degrés."))
        lon = float(number) if number is not None else None
    if _blank(lat_raw) != _blank(lon_raw):
        missing = "lon" if _blank(lon_raw) else "lat"
        errors.setdefault(missing, []).append(_l("Latitude et longitude vont ensemble : donnez les deux, ou aucune."))

    uncertainty = 0.0
    raw = data.get("location_uncertainty_km")
    if not _blank(raw):
        number = _number(errors, "location_uncertainty_km", raw, Decimal(0), Decimal(UNCERTAINTY_MAX),
                         _l("Entre 0 et %(max)d km.", max=UNCERTAINTY_MAX))
        uncertainty = float(number) if number is not None else 0.0

    if place is None:
        return
    if _blank(lat_raw) and _blank(lon_raw):
        # Placed at the commune's point: it may be anywhere in the commune.
        clean.update(lat=place.lat, lon=place.lon,
                     location_uncertainty_km=max(uncertainty, place.radius_km))
        return
    if lat is None or lon is None:
        return
    distance = geo.haversine_km(lat, lon, place.lat, place.lon)
    if distance > place.radius_km + COORDINATE_TOLERANCE_KM:
        message = _l("Ce point est à %(km).0f km de %(commune)s : vérifiez la latitude, la longitude "
                     "(inversées ?) et la commune, ou laissez les coordonnées vides.",
                     km=distance, commune=communes.describe(place.code))
        errors.setdefault("lat", []).append(message)
        errors.setdefault("lon", []).append(message)
        return
    clean.update(lat=lat, lon=lon, location_uncertainty_km=uncertainty)


def located_at_commune(unit: Unit) -> bool:
    """True when the unit's coordinates are its commune's point (not given by the landlord)."""
    place = geo.commune(unit.commune)
    return (place is not None and unit.lat == place.lat and unit.lon == place.lon
            and unit.location_uncertainty_km >= place.radius_km)


def _validate_stay(data: Mapping[str, Any], errors: dict[str, list[Any]], clean: dict[str, Any]) -> None:
    """An emergency or temporary place has a maximum stay; a permanent home has none (the
    stay given for a permanent home is dropped, like a form's hidden field)."""
    clean["temporary"] = _boolean(errors, "temporary", data.get("temporary"))
    clean["max_stay_days"] = None
    if not clean["temporary"]:
        return
    stay = data.get("max_stay_days")
    if _blank(stay):
        errors["max_stay_days"] = [_l("Indiquez la durée maximale du séjour dans cette place.")]
        return
    clean["max_stay_days"] = _integer(errors, "max_stay_days", stay, 1, MAX_STAY_DAYS,
                                      _l("Entre 1 et %(hi)d jours.", hi=MAX_STAY_DAYS))


def permanent() -> sa.ColumnElement[bool]:
    """The units that are permanent homes: the only ones the four ways propose (a place for a
    stay goes through `services.shelter`)."""
    return Unit.temporary.is_(False)


def unit_values(unit: Unit) -> dict[str, Any]:
    """The landlord-set fields of a unit, as `validate_unit_fields` takes them.

    Coordinates derived from the commune come back empty (and the uncertainty with them
    unless the landlord set a larger one), so that a new commune moves the point too.
    """
    values = {name: getattr(unit, name) for name in FIELDS}
    if located_at_commune(unit):
        place = geo.commune(unit.commune)
        values["lat"] = values["lon"] = None
        if place is not None and unit.location_uncertainty_km <= place.radius_km:
            values["location_uncertainty_km"] = None
    return values


# -- reading ------------------------------------------------------------------------------


def _own(landlord: Organisation) -> sa.Select[Unit]:
    # SQLAlchemy 2.1 (requirements.lock) types a select by its columns: Select[Unit], one
    # entity (2.0 wrote Select[tuple[Unit]]).
    return sa.select(Unit).where(Unit.landlord_id == landlord.id)


def get_unit(session: so.Session, landlord: Organisation, public_id: str, *,
             for_update: bool = False) -> Unit:
    """One of the landlord's units.

    :raise NotFound: no such unit, or another landlord's (the same answer).
    """
    stmt = _own(landlord).where(Unit.public_id == public_id)
    if for_update:
        stmt = stmt.with_for_update()
    unit = session.scalar(stmt)
    if unit is None:
        raise NotFound(_l("Logement introuvable."), field="id")
    return unit


def get_any_unit(session: so.Session, public_id: str, *, within: sa.ColumnElement[bool]) -> Unit:
    """Any landlord's unit within the reader's reach (a coordinator's territory: `services.territory.units`).

    :raise NotFound: no such unit, or one outside that reach (the same answer).
    """
    unit = session.scalar(sa.select(Unit).where(Unit.public_id == public_id, within))
    if unit is None:
        raise NotFound(_l("Logement introuvable."), field="id")
    return unit


def list_units(session: so.Session, landlord: Organisation | None, *, status: str | None = None,
               commune: str | None = None, rooms: int | None = None, department: str | None = None,
               within: sa.ColumnElement[bool] | None = None,
               page: int = 1, per_page: int = 25) -> Page[Unit]:
    """A page of units, newest first: the landlord's own, or every landlord's when None.

    `rooms` 6 means 6 and more (T6+). `within`: a further where-clause, the reader's reach
    (a coordinator's territory: `services.territory.units`).
    """
    stmt = sa.select(Unit) if landlord is None else _own(landlord)
    if within is not None:
        stmt = stmt.where(within)
    if status:
        stmt = stmt.where(Unit.status == status)
    if commune:
        stmt = stmt.where(Unit.commune == commune)
    if department:
        stmt = stmt.where(Unit.department == department.upper())
    if rooms:
        stmt = stmt.where(Unit.rooms >= 6) if rooms >= 6 else stmt.where(Unit.rooms == rooms)
    stmt = stmt.order_by(Unit.created_at.desc(), Unit.id.desc())
    return paginate(session, stmt, min(page, MAX_PAGE), per_page)


def count_by_status(session: so.Session, landlord: Organisation) -> dict[str, int]:
    """How many of the landlord's units are in each status (every status, zeros included)."""
    counts = dict.fromkeys(UNIT_STATUSES, 0)
    rows = session.execute(
        sa.select(Unit.status, sa.func.count()).where(Unit.landlord_id == landlord.id).group_by(Unit.status)
    )
    for status, n in rows:
        counts[status] = n
    return counts


def landlord_communes(session: so.Session, landlord: Organisation) -> list[tuple[str, str]]:
    """(code, "Name (dept)") of the communes where the landlord has units, by name."""
    codes = session.scalars(sa.select(Unit.commune).where(Unit.landlord_id == landlord.id).distinct())
    return sorted(((c, communes.describe(c)) for c in codes), key=lambda item: item[1])


# -- changes ------------------------------------------------------------------------------


def _check_reference_free(session: so.Session, landlord: Organisation, reference: str,
                          unit: Unit | None = None) -> None:
    stmt = sa.select(Unit.id).where(Unit.landlord_id == landlord.id, Unit.reference == reference)
    if unit is not None:
        stmt = stmt.where(Unit.id != unit.id)
    if session.scalar(stmt) is not None:
        raise ValidationError(
            {"reference": [_l("Vous avez déjà un logement de référence %(ref)s.", ref=reference)]}
        )


def create_unit(session: so.Session, landlord: Organisation, data: Mapping[str, Any], *,
                actor: User | None = None) -> Unit:
    """A new draft unit of this landlord."""
    clean = validate_unit_fields(data)
    _check_reference_free(session, landlord, clean["reference"])
    unit = proposal_flow.create_unit(session, Unit(landlord=landlord, **clean), actor=actor)
    session.flush()
    audit.record(session, "unit.create", actor=actor, object_type="unit", object_id=unit.public_id)
    return unit


def _merged(unit: Unit, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The unit's landlord-set fields with `changes` over them, as `validate_unit_fields` takes them."""
    data = unit_values(unit)
    if ("lat" in changes or "lon" in changes) and "location_uncertainty_km" not in changes:
        # New coordinates: their uncertainty is the landlord's to give, not the commune's.
        data["location_uncertainty_km"] = None
    data.update(changes)
    return data


def update_unit(session: so.Session, unit: Unit, changes: Mapping[str, Any], *,
                actor: User | None = None) -> Unit:
    """Change some fields of a unit (the others keep their values); every rule is checked again.

    :raise Conflict: the unit is proposed or allocated (read-only).
    """
    if unit.status not in EDITABLE_STATUSES:
        raise Conflict(_l("Ce logement est %(status)s : il ne peut plus être modifié.",
                          status=str(STATUS_LABELS[unit.status]).lower()), field="status")
    clean = validate_unit_fields(_merged(unit, changes))
    if unit.temporary and not clean["temporary"]:
        from services import shelter  # shelter reads units

        shelter.refuse_if_occupied(session, unit)
    if clean["reference"] != unit.reference:
        _check_reference_free(session, unit.landlord, clean["reference"], unit)
    for name, value in clean.items():
        setattr(unit, name, value)
    session.flush()
    audit.record(session, "unit.update", actor=actor, object_type="unit", object_id=unit.public_id)
    # Proposals of a run still under review were checked against the old facts.
    from services.safety import recheck_open_proposals

    recheck_open_proposals(session, unit=unit, actor=actor)
    return unit


def publish_unit(session: so.Session, unit: Unit, *, actor: User | None = None) -> Unit:
    """Offer the unit to matching (from draft, or again after a withdrawal).

    :raise Conflict: already published, proposed or allocated.
    """
    if unit.status not in PUBLISHABLE_STATUSES:
        raise Conflict(_l("Ce logement est %(status)s : il ne peut pas être publié.",
                          status=str(STATUS_LABELS[unit.status]).lower()), field="status")
    proposal_flow.move(session, unit, "publish", actor=actor, published_at=utcnow())
    return unit


def publish_units(session: so.Session, landlord: Organisation, public_ids: list[str], *,
                  actor: User | None = None) -> list[Unit]:
    """Publish several of the landlord's draft units at once (those of an import, or those
    chosen on the list), each through `publish_unit`: all of them or none.

    :raise ValidationError: no unit chosen (field `units`).
    :raise NotFound: one of them is not the landlord's (the same answer as a missing one).
    :raise Conflict: one of them is not a draft (named by its reference); nothing is published.
    """
    ids = list(dict.fromkeys(public_ids))
    if not ids:
        raise ValidationError(_l("Choisissez au moins un logement à publier."), field="units")
    if not all(_PUBLIC_ID.fullmatch(i) for i in ids):
        # Not an id we ever give (a NUL byte would even upset PostgreSQL): no such unit.
        raise NotFound(_l("Logement introuvable."), field="units")
    found: list[Unit] = []
    for start in range(0, len(ids), 1000):  # a bounded IN list, whatever the import's size
        found.extend(session.scalars(_own(landlord).where(Unit.public_id.in_(ids[start:start + 1000]))
                                     .order_by(Unit.id).with_for_update()))
    if len(found) != len(ids):
        raise NotFound(_l("Logement introuvable."), field="units")
    not_drafts = sorted(u.reference for u in found if u.status != "draft")
    if not_drafts:
        shown = ", ".join(not_drafts[:10]) + (" …" if len(not_drafts) > 10 else "")
        raise Conflict(_l("Seuls des brouillons sont publiés ainsi ; ceux-ci n'en sont plus : %(refs)s. Aucun "
                          "logement n'a été publié.", refs=shown), field="units")
    for unit in found:
        publish_unit(session, unit, actor=actor)
    return found


def withdraw_unit(session: so.Session, unit: Unit, *, actor: User | None = None, base_url: str = "") -> Unit:
    """Take the unit out of matching; its open proposals are cancelled, both sides told.

    :raise Conflict: allocated, or already withdrawn.
    """
    if unit.temporary:
        from services import shelter  # shelter reads units

        shelter.refuse_if_occupied(session, unit)
    if unit.status == "proposed":
        proposals.cancel_all(session, actor, unit=unit, base_url=base_url)
    if unit.status not in ("draft", "published"):
        raise Conflict(_l("Ce logement est %(status)s : il ne peut pas être retiré.",
                          status=str(STATUS_LABELS[unit.status]).lower()), field="status")
    proposal_flow.move(session, unit, "withdraw", actor=actor)
    return unit


# -- spreadsheet import -------------------------------------------------------------------

# Template headers (French first), and every other header accepted for each field.
_FRENCH_COLUMNS = (
    Column("reference", ("reference", "référence", "ref"), required=True),
    Column("commune", ("commune", "code_insee", "insee"), required=True),
    Column("lat", ("latitude", "lat")),
    Column("lon", ("longitude", "lon", "lng")),
    Column("location_uncertainty_km", ("incertitude_km", "incertitude")),
    Column("rooms", ("pieces", "pièces", "nb_pieces", "typologie"), required=True),
    Column("surface_m2", ("surface_m2", "surface")),
    Column("floor", ("etage", "étage")),
    Column("elevator", ("ascenseur",)),
    Column("wheelchair_accessible", ("accessible_fauteuil", "accessible_pmr", "pmr")),
    Column("rent", ("loyer",), required=True),
    Column("charges", ("charges",)),
    Column("financing", ("financement",)),
    Column("in_qpv", ("qpv", "en_qpv")),
    Column("available_from", ("disponible_le", "disponibilite", "date_disponibilite"), required=True),
    Column("temporary", ("place_urgence", "place_temporaire", "temporaire")),
    Column("max_stay_days", ("duree_max_sejour_jours", "duree_max_sejour", "duree_max")),
)
TEMPLATE_HEADERS = tuple(col.headers[0] for col in _FRENCH_COLUMNS)
# The contract's English field names are accepted too (read_table folds case and accents).
IMPORT_COLUMNS = tuple(Column(c.field, (*c.headers, c.field), c.required) for c in _FRENCH_COLUMNS)
TEMPLATE_EXAMPLE = (
    "EXEMPLE-0001", "59350", "50,6292", "3,0573", "", "3", "64,5", "2", "oui", "non", "412,50", "85,00",
    "PLUS", "non", "01/12/2026", "non", "",
)
TEMPLATE_EXAMPLE_AT_COMMUNE = (
    "EXEMPLE-0002", "Roubaix", "", "", "", "2", "48", "0", "non", "oui", "356", "60", "PLAI", "oui",
    "2026-12-15", "non", "",
)
# Shown on the import page and in the XLSX template's help sheet: in the reader's language.
TEMPLATE_NOTES = (
    _l("Une ligne par logement ; la première ligne (en-têtes) ne change pas. Colonnes obligatoires : "
       "reference, commune, pieces, loyer, disponible_le."),
    _l("reference : votre référence du logement (unique parmi vos logements)."),
    _l("commune : code INSEE (59350) ou nom exact (Lille) ; un nom porté par plusieurs communes "
       "doit être précisé : Saint-Denis (93) ou 93066."),
    _l("latitude, longitude : en degrés (50,6292 ; 3,0573). Vides : le logement est placé au centre de "
       "sa commune, avec une incertitude égale au rayon de la commune."),
    _l("incertitude_km : rayon (km) autour du point dans lequel se trouve le logement (0 si le point est exact)."),
    _l("pieces : nombre de pièces principales (T3 = 3). surface_m2 : surface habitable."),
    _l("etage : 0 pour le rez-de-chaussée. ascenseur, accessible_fauteuil, qpv : oui ou non."),
    _l("loyer, charges : euros par mois, virgule ou point décimal (412,50)."),
    _l("financement : PLAI, PLUS, PLS ou PLI (facultatif). disponible_le : JJ/MM/AAAA ou AAAA-MM-JJ."),
    _l("place_urgence : oui pour une place d'urgence ou temporaire (mise à l'abri), qui n'est jamais proposée "
       "comme logement durable ; duree_max_sejour_jours (1 à 730) est alors obligatoire."),
    _l("Les noms de champs anglais du contrat d'API (rooms, rent, available_from...) sont aussi acceptés."),
    _l("Fichier CSV (séparateur ; ou ,) en UTF-8 ou Windows-1252, XLSX, XLS ou ODS. Au plus 5000 lignes. "
       "Si une ligne est fausse, rien n'est enregistré : le rapport indique chaque ligne à corriger."),
)


def template_csv() -> bytes:
    """The import template as CSV (`;`, UTF-8 with BOM: Excel opens it right)."""
    return imports.write_csv(TEMPLATE_HEADERS, [TEMPLATE_EXAMPLE, TEMPLATE_EXAMPLE_AT_COMMUNE])


def template_xlsx() -> bytes:
    """The import template as XLSX, with a help sheet."""
    return imports.write_xlsx(TEMPLATE_HEADERS, [TEMPLATE_EXAMPLE, TEMPLATE_EXAMPLE_AT_COMMUNE],
                              title="Logements", notes=[str(note) for note in TEMPLATE_NOTES])


def template_ods() -> bytes:
    """The import template as ODS (LibreOffice), with a help sheet."""
    return imports.write_ods(TEMPLATE_HEADERS, [TEMPLATE_EXAMPLE, TEMPLATE_EXAMPLE_AT_COMMUNE],
                             title="Logements", notes=[str(note) for note in TEMPLATE_NOTES])


EXPORT_FORMATS = ("csv", "xlsx", "ods")


def _export_row(unit: Unit, *, as_text: bool) -> list[Any]:
    """One unit as a line of the import template (`unit_values`: coordinates taken from the
    commune stay empty, so that the file read back changes nothing). CSV gets French text
    ("412,50", "01/12/2026"); XLSX and ODS get numbers and dates."""
    values = unit_values(unit)
    row: list[Any] = []
    for column in _FRENCH_COLUMNS:
        value = values[column.field]
        if isinstance(value, bool):
            value = "oui" if value else "non"
        elif as_text and isinstance(value, float | Decimal):
            value = _french_number(value)
        elif as_text and isinstance(value, dt.date):
            value = value.strftime("%d/%m/%Y")
        row.append("" if value is None else value)
    return row


def _french_number(value: float | Decimal) -> str:
    """ "412,5" for 412.50, "50,6292" for 50.6292: a number as the French template writes it."""
    text = format(Decimal(repr(value)) if isinstance(value, float) else value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",")


def export_units(session: so.Session, landlord: Organisation, kind: str) -> bytes:
    """All the landlord's units as a spreadsheet laid out as the import template, by reference:
    edited and sent back (`update_units_from_file`) it updates them."""
    own = list(session.scalars(_own(landlord).order_by(Unit.reference, Unit.id)))
    if kind == "csv":
        return imports.write_csv(TEMPLATE_HEADERS, [_export_row(u, as_text=True) for u in own])
    rows = [_export_row(u, as_text=False) for u in own]
    if kind == "ods":
        return imports.write_ods(TEMPLATE_HEADERS, rows, title="Logements")
    return imports.write_xlsx(TEMPLATE_HEADERS, rows, title="Logements")


@dataclass
class ImportSummary:
    """What an import created."""

    units: list[Unit] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.units)

    def by_commune(self) -> list[tuple[str, str, int]]:
        """(code, "Name (dept)", count), most units first."""
        counts = Counter(u.commune for u in self.units)
        return sorted(((c, communes.describe(c), n) for c, n in counts.items()),
                      key=lambda item: (-item[2], item[1]))

    def by_typology(self) -> list[tuple[str, int]]:
        """("T1", count)... in typology order, only those present."""
        counts = Counter(typology(u.rooms) for u in self.units)
        return [(t, counts[t]) for t in (typology(r) for r in TYPOLOGIES) if counts[t]]


def import_units(session: so.Session, landlord: Organisation, filename: str, data: bytes, *,
                 actor: User | None = None) -> ImportSummary:
    """Create draft units from a spreadsheet: all rows or none.

    Every row is validated first (the same rules as the form and the API), references
    must be new (in the file and among the landlord's units), and only then are all
    units added in one flush.

    :raise ImportRejected: every error, by line and column; nothing is added.
    :raise ValidationError: the file itself is unreadable, empty or too long.
    """
    table = imports.read_table(filename, data, IMPORT_COLUMNS)
    errors: list[RowError] = []
    cleaned: list[dict[str, Any]] = []
    first_line: dict[str, int] = {}
    existing = set(session.scalars(sa.select(Unit.reference).where(Unit.landlord_id == landlord.id)))
    today = clock.today()
    for row in table.rows:
        try:
            clean = validate_unit_fields(row.cells, today=today)
        except ValidationError as exc:
            for name, messages in exc.errors.items():
                for message in messages if isinstance(messages, list) else [messages]:
                    errors.append(RowError(row.line, table.header_of(name), message))
            continue
        reference = clean["reference"]
        column = table.header_of("reference")
        if reference in existing:
            errors.append(RowError(row.line, column,
                                   _l("Vous avez déjà un logement de référence %(ref)s.", ref=reference)))
        elif reference in first_line:
            errors.append(RowError(row.line, column,
                                   _l("Référence %(ref)s déjà présente ligne %(line)d.",
                                      ref=reference, line=first_line[reference])))
        else:
            first_line[reference] = row.line
            cleaned.append(clean)
    if errors:
        raise ImportRejected(errors)
    summary = ImportSummary(units=[proposal_flow.create_unit(session, Unit(landlord=landlord, **clean), actor=actor)
                                   for clean in cleaned])
    session.flush()
    audit.record(session, "unit.import", actor=actor, object_type="organisation", object_id=landlord.code)
    return summary



# Updating by reference: only `reference` is required; the columns present are the ones changed.
UPDATE_COLUMNS = tuple(Column(c.field, c.headers, c.field == "reference") for c in IMPORT_COLUMNS)


@dataclass
class UpdateSummary:
    """What an update by reference changed: the units changed, and how many lines changed nothing."""

    units: list[Unit] = field(default_factory=list)
    unchanged: int = 0

    @property
    def count(self) -> int:
        return len(self.units)


def update_units_from_file(session: so.Session, landlord: Organisation, filename: str, data: bytes, *,
                           actor: User | None = None) -> UpdateSummary:
    """Update the landlord's units from a spreadsheet, each line naming a unit by its reference:
    all lines or none.

    The columns the file has are changed, the others kept (an empty cell empties an optional
    field, as on the form). Every line is checked with the form's rules before anything is
    changed; a reference that is none of the landlord's units, a reference twice in the file,
    or a unit that can no longer be edited (proposed, allocated) is an error on its line.

    :raise ImportRejected: every error, by line and column; nothing is changed.
    :raise ValidationError: the file itself is unreadable, empty or too long.
    """
    table = imports.read_table(filename, data, UPDATE_COLUMNS)
    changed_fields = [name for name in table.fields if name != "reference"]
    column = table.header_of("reference")
    own = {u.reference: u for u in session.scalars(_own(landlord).with_for_update())}
    errors: list[RowError] = []
    first_line: dict[str, int] = {}
    planned: list[tuple[Unit, dict[str, Any]]] = []
    unchanged = 0
    today = clock.today()
    for row in table.rows:
        reference = "" if imports.is_blank(row.cells.get("reference")) else str(row.cells["reference"]).strip()
        if not reference:
            errors.append(RowError(row.line, column, _l("Ce champ est obligatoire.")))
            continue
        if reference in first_line:
            errors.append(RowError(row.line, column, _l("Référence %(ref)s déjà présente ligne %(line)d.",
                                                        ref=reference, line=first_line[reference])))
            continue
        first_line[reference] = row.line
        unit = own.get(reference)
        if unit is None:
            errors.append(RowError(row.line, column,
                                   _l("Aucun de vos logements n'a la référence %(ref)s.", ref=reference)))
            continue
        changes = {name: row.cells.get(name) for name in changed_fields}
        try:
            clean = validate_unit_fields(_merged(unit, changes), today=today)
        except ValidationError as exc:
            for name, found in exc.errors.items():
                for message in found if isinstance(found, list) else [found]:
                    errors.append(RowError(row.line, table.header_of(name), message))
            continue
        if all(getattr(unit, name) == value for name, value in clean.items()):
            # A line that changes nothing is fine even for a proposed or allocated unit: the
            # whole export can be sent back with only a few lines edited.
            unchanged += 1
            continue
        if unit.status not in EDITABLE_STATUSES:
            errors.append(RowError(row.line, column, _l(
                "Le logement %(ref)s est %(status)s : il ne peut plus être modifié.",
                ref=reference, status=str(STATUS_LABELS[unit.status]).lower())))
            continue
        planned.append((unit, changes))
    if errors:
        raise ImportRejected(errors)
    summary = UpdateSummary(unchanged=unchanged)
    for planned_unit, planned_changes in planned:
        summary.units.append(update_unit(session, planned_unit, planned_changes, actor=actor))
    audit.record(session, "unit.import_update", actor=actor, object_type="organisation", object_id=landlord.code)
    return summary

__all__ = [
    "FIELDS", "STATUS_LABELS", "ImportRejected", "ImportSummary", "count_by_status", "create_unit",
    "UpdateSummary", "export_units", "get_any_unit", "get_unit", "import_units", "template_ods",
    "update_units_from_file", "list_units", "publish_unit", "publish_units", "template_csv",
    "template_xlsx", "typology", "update_unit", "validate_unit_fields", "withdraw_unit",
]
