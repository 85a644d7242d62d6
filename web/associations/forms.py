"""The household form: typed as a referent thinks (names, "commune + km"), checked by the service.

The form only turns what was typed into the contract's fields (communes and departments
resolved to codes, "Roubaix + 10 km" into a disc that covers it); every rule and message
comes from `services.households.validate_household_fields`, the same as the API. Its errors,
keyed by contract path (``exclusion_zones[3].radius_km``), are put back next to the input the
value came from.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget

from matching import geo
from models import Household
from services import communes
from services import households as svc
from services.errors import ValidationError
from services.messages import number

POINT_ROWS = 2
PREFERRED_ROWS = 1
MAX_ROWS = 10

_CODE_IN_PARENS = re.compile(r"^(?P<name>.*?)\s*\(\s*(?P<code>\d{5}|2[AaBb]\d{3})\s*\)\s*$")
_DEPT_IN_PARENS = re.compile(r"^(?P<name>.*?)\s*\(\s*(?P<code>\d{2,3}|2[AaBb])\s*\)\s*$")

NUMBER = {"inputmode": "decimal"}


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def resolve_commune(text: str) -> geo.Commune:
    """A commune from "Roubaix", "59512" or "Roubaix (59512)" (as the pages show them back)."""
    match = _CODE_IN_PARENS.match(text)
    if match:
        found = communes.resolve(match["code"])
        if match["name"] and geo._normalize(match["name"]) != geo._normalize(found.name):  # noqa: SLF001
            raise ValidationError(_l("« %(text)s » : le code %(code)s est celui de %(name)s.",
                                     text=text, code=found.code, name=found.name))
        return found
    return communes.resolve(text)


def resolve_department(text: str) -> str:
    """A department code from "80", "Somme" or "Somme (80)"."""
    match = _DEPT_IN_PARENS.match(text)
    value = (match["code"] if match else text).strip().upper()
    if geo.department_name(value):
        return value
    wanted = geo._normalize(text)  # noqa: SLF001 - the same folding as commune names
    for code, name in geo.departments().items():
        if geo._normalize(name) == wanted:  # noqa: SLF001
            return code
    raise ValidationError(_l("Département inconnu : %(text)s.", text=text))


def commune_words(code: str) -> str:
    found = geo.commune(code)
    return f"{found.name} ({code})" if found else code


def department_words(code: str) -> str:
    return f"{geo.department_name(code) or code} ({code})"


def _plain(value: float) -> str:
    """A coordinate or a distance as she would type it: "50,6301" in French, "50.6301" in English."""
    return number(value, 6)  # below 1 000 (degrees, km): no thousands separator


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class PointZoneForm(Form):
    """One zone around a place: a commune and a distance, or coordinates and a radius."""

    commune = StringField(_l("Commune"), description=_l("Nom ou code INSEE ; la distance compte depuis toute la "
                                                        "commune."))
    distance_km = StringField(_l("Distance ou rayon (km)"), render_kw=NUMBER)
    lat = StringField(_l("ou latitude"), render_kw=NUMBER)
    lon = StringField(_l("longitude"), render_kw=NUMBER)

    def is_blank(self) -> bool:
        return not any((f.data or "").strip() for f in self)


class PreferredPointForm(Form):
    """A place she wants to live near (school, work)."""

    label = StringField(_l("Lieu"), description=_l("Par exemple « école » ou « travail » ; jamais un nom ni une "
                                                   "adresse."))
    commune = StringField(_l("Commune"))
    lat = StringField(_l("ou latitude"), render_kw=NUMBER)
    lon = StringField(_l("longitude"), render_kw=NUMBER)

    def is_blank(self) -> bool:
        return not any((f.data or "").strip() for f in self)


# The legend of each row of a group, as the form shows it (web/templates/associations/household_form.html).
ROW_LEGENDS = {
    "exclusion_points": lambda n: _l("Zone autour d'un lieu n° %(n)s", n=n),
    "preferred_points": lambda n: _l("Lieu n° %(n)s", n=n),
}


def _named(field: str, message: str) -> str:
    """An error message with the name of its field in front."""
    return str(_l("%(field)s : %(message)s", field=field, message=message))


class HouseholdForm(FlaskForm):
    """Everything matching needs to know about a household, and nothing that identifies her."""

    reference = StringField(
        _l("Référence du dossier"),
        description=_l("Votre numéro de dossier interne, par exemple DOS-2026-017. Jamais de nom, de prénom, "
                       "d'adresse, de téléphone ni de date de naissance : la plateforme n'en enregistre aucun."),
        render_kw={"autocomplete": "off", "required": True},
    )
    adults = StringField(_l("Adultes"), render_kw={"inputmode": "numeric", "required": True})
    children = StringField(_l("Enfants"), render_kw={"inputmode": "numeric"})
    monthly_income = StringField(
        _l("Ressources mensuelles (€)"),
        description=_l("Ses revenus à elle, par mois : ceux du conjoint violent ne comptent pas."),
        render_kw={**NUMBER, "required": True},
    )
    housing_allowance = StringField(_l("Aide au logement attendue (APL ou AL, € par mois)"), render_kw=NUMBER)
    reference_income = StringField(_l("Revenu fiscal de référence (€ par an, facultatif)"),
                                   render_kw={"inputmode": "numeric"})
    needs_wheelchair_access = BooleanField(_l("Logement accessible en fauteuil roulant"))
    needs_no_stairs = BooleanField(_l("Pas d'escalier : rez-de-chaussée ou ascenseur"))
    urgency = RadioField(_l("Urgence"), choices=[SelectChoice(str(k), v) for k, v in svc.URGENCY_LABELS.items()],
                         validate_choice=False)
    priority_categories = MultiCheckboxField(
        _l("Critères de priorité"), choices=[SelectChoice(k, v) for k, v in svc.PRIORITY_LABELS.items()],
        validate_choice=False)
    requested_on = StringField(_l("Date de la demande"), render_kw={"type": "date", "required": True})
    ready_from = StringField(_l("Prête à emménager à partir du"), render_kw={"type": "date", "required": True})
    consent_recorded_on = StringField(
        _l("Consentement au rapprochement recueilli le"),
        description=_l("Facultatif pour un brouillon ; nécessaire pour activer la demande."),
        render_kw={"type": "date"},
    )
    search_communes = StringField(
        _l("Communes recherchées"),
        description=_l("Noms ou codes INSEE séparés par des virgules. Un nom que portent plusieurs communes est "
                       "refusé : précisez le département, « Saint-Denis (93) », ou le code INSEE. Laissez vide "
                       "pour ne pas limiter aux communes."),
    )
    search_departments = StringField(_l("Départements recherchés"),
                                     description=_l("Codes ou noms séparés par des virgules : « 59, 62 »."))
    excluded_communes = StringField(
        _l("Communes où elle ne doit jamais être logée"),
        description=_l("Noms ou codes INSEE séparés par des virgules : toute la commune est exclue."),
    )
    excluded_departments = StringField(
        _l("Départements où elle ne doit jamais être logée"),
        description=_l("Codes ou noms séparés par des virgules : tout le département est exclu."),
    )
    exclusion_points = FieldList(FormField(PointZoneForm), min_entries=POINT_ROWS, max_entries=MAX_ROWS)
    preferred_points = FieldList(FormField(PreferredPointForm), min_entries=PREFERRED_ROWS, max_entries=MAX_ROWS)
    # Her current home when she rents from a social landlord (choices: the view's landlords).
    current_landlord = SelectField(
        _l("Elle est aujourd'hui locataire de"), choices=[], validate_choice=False,
        description=_l("Seulement si elle loue un logement social, par exemple celui qu'elle partage encore avec "
                       "l'auteur des violences. Ce logement ne lui sera jamais proposé."))
    current_commune = StringField(
        _l("Commune de son logement actuel"),
        description=_l("Nom ou code INSEE, jamais l'adresse. À l'enregistrement, la commune est ajoutée à ses zones "
                       "d'exclusion : retirez-la ensuite seulement si elle peut y rester en sécurité."))
    # The platform's id of her unit (an urgent transfer, the API): kept through a page edit.
    current_unit = HiddenField()
    notes = TextAreaField(
        _l("Notes"),
        description=_l("Visibles uniquement par votre association, chiffrées. Aucun nom, aucune adresse."),
        render_kw={"rows": 3},
    )
    verified = HiddenField()

    SCALARS = ("reference", "adults", "children", "monthly_income", "housing_allowance", "reference_income",
               "requested_on", "ready_from", "consent_recorded_on", "notes")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.form_errors: list[str] = []
        self.row_errors: dict[str, list[str]] = {}

    # -- Household -> form (editing) ----------------------------------------------------

    def fill(self, household: Household) -> None:
        """Show a saved household in the form's own words ("Roubaix (59512)", commune + km)."""
        for name in self.SCALARS:
            value = getattr(household, name)
            getattr(self, name).data = "" if value is None else (
                value.isoformat() if hasattr(value, "isoformat") else str(value))
        self.needs_wheelchair_access.data = household.needs_wheelchair_access
        self.needs_no_stairs.data = household.needs_no_stairs
        self.urgency.data = str(household.urgency)
        self.priority_categories.data = list(household.priority_categories or [])
        area = household.search_area or {}
        self.search_communes.data = ", ".join(commune_words(c) for c in area.get("communes", []))
        self.search_departments.data = ", ".join(department_words(d) for d in area.get("departments", []))
        zones = household.exclusion_zones or []
        self.excluded_communes.data = ", ".join(commune_words(z["commune"]) for z in zones if "commune" in z)
        self.excluded_departments.data = ", ".join(
            department_words(z["department"]) for z in zones if "department" in z)
        points = [z for z in zones if "lat" in z]
        self._rows(self.exclusion_points, len(points) + 1)
        for row, zone in zip(self.exclusion_points, points, strict=False):
            as_commune = svc.point_as_commune(zone)
            if as_commune:
                row.commune.data = commune_words(as_commune[0].code)
                row.distance_km.data = number(as_commune[1], 2)
            else:
                row.lat.data, row.lon.data = _plain(zone["lat"]), _plain(zone["lon"])
                row.distance_km.data = _plain(zone["radius_km"])
        home = household.current_home or {}
        self.current_landlord.data = home.get("landlord") or ""
        self.current_commune.data = commune_words(home["commune"]) if home.get("commune") else ""
        self.current_unit.data = home.get("unit") or ""
        preferred = household.preferred_points or []
        self._rows(self.preferred_points, len(preferred) + 1)
        for row, point in zip(self.preferred_points, preferred, strict=False):
            # `row.label` would be the row's own label: the place's label is a field of its form.
            row.form.label.data = point["label"]
            found = svc._centres().get((point["lat"], point["lon"]))  # noqa: SLF001
            if found:
                row.commune.data = commune_words(found.code)
            else:
                row.lat.data, row.lon.data = _plain(point["lat"]), _plain(point["lon"])

    @staticmethod
    def _rows(field: FieldList, wanted: int) -> None:
        while len(field) < min(max(wanted, field.min_entries or 0), MAX_ROWS):
            field.append_entry()

    def add_row(self, which: str) -> None:
        """One more empty row of point zones or preferred places (the no-script "add" button)."""
        field = self.exclusion_points if which == "point" else self.preferred_points
        if len(field) < MAX_ROWS:
            field.append_entry()

    # -- Form -> contract fields ----------------------------------------------------------

    def to_data(self) -> tuple[dict[str, Any], dict[str, list[str]]]:
        """The contract's fields as typed (text), and the errors found resolving names.

        Also remembers where each zone came from, so that the service's errors can be put
        back next to the right input (`show_errors`).
        """
        errors: dict[str, list[str]] = {}
        data: dict[str, Any] = {name: (getattr(self, name).data or "") for name in self.SCALARS}
        data["needs_wheelchair_access"] = bool(self.needs_wheelchair_access.data)
        data["needs_no_stairs"] = bool(self.needs_no_stairs.data)
        data["urgency"] = self.urgency.data or ""
        data["priority_categories"] = list(self.priority_categories.data or [])

        def resolved(field: str, items: list[str], resolve: Any) -> list[str]:
            codes = []
            for item in items:
                try:
                    found = resolve(item)
                except ValidationError as exc:
                    errors.setdefault(field, []).append(str(exc.message))
                else:
                    codes.append(found.code if isinstance(found, geo.Commune) else found)
            return codes

        data["search_area"] = {
            "communes": resolved("search_communes", _split(self.search_communes.data), resolve_commune),
            "departments": resolved("search_departments", _split(self.search_departments.data), resolve_department),
        }
        zones: list[dict[str, Any]] = []
        self._zone_origin: list[str] = []
        for code in resolved("excluded_communes", _split(self.excluded_communes.data), resolve_commune):
            zones.append({"commune": code})
            self._zone_origin.append("excluded_communes")
        for code in resolved("excluded_departments", _split(self.excluded_departments.data), resolve_department):
            zones.append({"department": code})
            self._zone_origin.append("excluded_departments")
        for i, row in enumerate(self.exclusion_points):
            zone = self._point_zone(row.form, f"exclusion_points-{i}", errors)
            if zone is not None:
                zones.append(zone)
                self._zone_origin.append(f"exclusion_points-{i}")
        data["exclusion_zones"] = zones
        points: list[dict[str, Any]] = []
        self._point_origin: list[str] = []
        for i, row in enumerate(self.preferred_points):
            point = self._preferred(row.form, f"preferred_points-{i}", errors)
            if point is not None:
                points.append(point)
                self._point_origin.append(f"preferred_points-{i}")
        data["preferred_points"] = points
        data["current_home"] = None
        if (self.current_landlord.data or "").strip():
            commune = resolved("current_commune", _split(self.current_commune.data or ""), resolve_commune)
            data["current_home"] = {"landlord": self.current_landlord.data, "commune": commune[0] if commune else "",
                                    "unit": self.current_unit.data or ""}
        elif (self.current_commune.data or "").strip():
            errors.setdefault("current_landlord", []).append(str(_l("Choisissez son bailleur actuel.")))
        return data, errors

    @staticmethod
    def _point_zone(row: PointZoneForm, name: str, errors: dict[str, list[str]]) -> dict[str, Any] | None:
        if row.is_blank():
            return None
        place = (row.commune.data or "").strip()
        distance = (row.distance_km.data or "").strip()
        if place:
            if (row.lat.data or "").strip() or (row.lon.data or "").strip():
                errors.setdefault(name, []).append(str(_l("Indiquez soit une commune, soit des coordonnées : pas "
                                                          "les deux.")))
                return None
            try:
                found = resolve_commune(place)
            except ValidationError as exc:
                errors.setdefault(f"{name}-commune", []).append(str(exc.message))
                return None
            try:
                km = float(distance.replace(",", ".").replace(" ", ""))
            except ValueError:
                km = None
            if km is None or not km > 0 or km > svc.MAX_RADIUS_KM:
                # The service says what is wrong with it, as for coordinates.
                return {"lat": found.lat, "lon": found.lon, "radius_km": distance}
            return svc.commune_point_zone(found, km)
        return {"lat": row.lat.data or "", "lon": row.lon.data or "", "radius_km": distance}

    @staticmethod
    def _preferred(row: PreferredPointForm, name: str, errors: dict[str, list[str]]) -> dict[str, Any] | None:
        if row.is_blank():
            return None
        place = (row.commune.data or "").strip()
        if place:
            if (row.lat.data or "").strip() or (row.lon.data or "").strip():
                errors.setdefault(name, []).append(str(_l("Indiquez soit une commune, soit des coordonnées : pas "
                                                          "les deux.")))
                return None
            try:
                found = resolve_commune(place)
            except ValidationError as exc:
                errors.setdefault(f"{name}-commune", []).append(str(exc.message))
                return None
            return {"lat": found.lat, "lon": found.lon, "label": row.label.data or ""}
        return {"lat": row.lat.data or "", "lon": row.lon.data or "", "label": row.label.data or ""}

    # -- Errors back next to their input ----------------------------------------------------

    def _field_for(self, path: str) -> str:
        """The form input (by name) a contract path came from."""
        match = re.match(r"^(exclusion_zones|preferred_points)\[(\d+)\](?:\.(\w+))?$", path)
        if match:
            origins = self._zone_origin if match[1] == "exclusion_zones" else self._point_origin
            index = int(match[2])
            origin = origins[index] if index < len(origins) else match[1]
            sub = {"radius_km": "distance_km"}.get(match[3] or "", match[3] or "")
            if origin.startswith(("exclusion_points-", "preferred_points-")) and sub:
                return f"{origin}-{sub}"
            return origin
        if path.startswith("search_area.communes") or path == "search_area":
            return "search_communes"
        if path.startswith("search_area.departments"):
            return "search_departments"
        if path.startswith("current_home"):
            return "current_commune" if path.endswith(".commune") else "current_landlord"
        return path

    def show_errors(self, errors: dict[str, list[Any]]) -> None:
        """Put each message next to its input; rows get theirs in their group."""
        for path, messages in errors.items():
            name = self._field_for(path)
            texts = [str(m) for m in messages]
            field = self._find(name)
            if field is not None:
                field.errors = [*list(field.errors or []), *texts]
            elif re.match(r"^(exclusion_points|preferred_points)-\d+$", name):
                self.row_errors.setdefault(name, []).extend(texts)
            else:
                self.form_errors.extend(texts)

    def _find(self, name: str) -> Any:
        if name in self._fields and name not in ("exclusion_points", "preferred_points"):
            return self._fields[name]
        match = re.match(r"^(exclusion_points|preferred_points)-(\d+)-(\w+)$", name)
        if match:
            rows = getattr(self, match[1])
            index = int(match[2])
            if index < len(rows):
                return rows[index].form._fields.get(match[3])
        return None

    def all_errors(self) -> list[tuple[str, str]]:
        """(input id, message) of every error, for the summary at the top of the page."""
        # Each message names its field ("Lieu n° 1 — Lieu : Champ obligatoire."): the summary is
        # read away from the inputs, and "Champ obligatoire." alone says not which one.
        found: list[tuple[str, str]] = [("", m) for m in self.form_errors]
        for field in self:
            if isinstance(field, FieldList):
                legend = ROW_LEGENDS.get(field.name)
                for i, row in enumerate(field):
                    group = str(legend(i + 1)) if legend else str(field.label.text)
                    found += [(f"{field.name}-{i}", _named(group, m))
                              for m in self.row_errors.get(f"{field.name}-{i}", [])]
                    for sub in row.form:
                        found += [(sub.id, _named(f"{group} — {sub.label.text}", m)) for m in sub.errors or []]
            else:
                found += [(field.id, _named(str(field.label.text), m)) for m in field.errors or []]
        return found
