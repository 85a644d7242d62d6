"""Forms of the landlord pages.

Fields are text as people type it ("412,50", "Lille"): the rules live in
`services.units.validate_unit_fields`, which the API and the import use too, and its
messages are put back next to each field (`UnitForm.add_errors`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from babel.numbers import get_decimal_symbol
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice

from models.housing import FINANCINGS, UNIT_STATUSES
from services import units
from web.fields import place_errors


class Required:
    """Marks a field as required (asterisk, aria) without checking it: the service does."""

    field_flags = {"required": True}

    def __call__(self, form: Any, field: Any) -> None:
        return None


def _local_number(value: object) -> str:
    """A stored number as the reader writes it: "50,6292" in French, "50.6292" in English."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        text = f"{value:.2f}"
    elif isinstance(value, float):
        # Every digit given back: a form saved unchanged must not move the unit.
        text = repr(value).removesuffix(".0")
    else:
        text = str(value)
    return text.replace(".", get_decimal_symbol(get_locale()))


DECIMAL = {"inputmode": "decimal", "autocomplete": "off"}
INTEGER = {"inputmode": "numeric", "autocomplete": "off"}


class UnitForm(FlaskForm):
    """Every field of a unit (the matching contract's, plus the landlord's reference)."""

    reference = StringField(
        units.FIELD_LABELS["reference"], validators=[Required()],
        description=_l("Votre référence du logement, unique parmi vos logements (80 caractères au plus)."),
        render_kw={"maxlength": units.REFERENCE_MAX, "autocomplete": "off"})
    commune = StringField(
        units.FIELD_LABELS["commune"], validators=[Required()],
        description=_l("Code INSEE (59350) ou nom exact (Lille). Si plusieurs communes portent ce nom, "
                       "précisez le département : Saint-Denis (93)."),
        render_kw={"autocomplete": "off"})
    lat = StringField(
        units.FIELD_LABELS["lat"],
        description=_l("En degrés, par exemple 50,6292. Laissez latitude et longitude vides pour placer le "
                       "logement au centre de sa commune."), render_kw=DECIMAL)
    lon = StringField(units.FIELD_LABELS["lon"], description=_l("En degrés, par exemple 3,0573."),
                      render_kw=DECIMAL)
    location_uncertainty_km = StringField(
        units.FIELD_LABELS["location_uncertainty_km"],
        description=_l("Rayon autour du point dans lequel se trouve le logement (0 si le point est exact). "
                       "Sans coordonnées, c'est au moins le rayon de la commune : les zones d'exclusion des "
                       "ménages sont vérifiées sur toute la commune."), render_kw=DECIMAL)
    rooms = StringField(
        units.FIELD_LABELS["rooms"], validators=[Required()],
        description=_l("Nombre de pièces principales : 3 pour un T3."), render_kw=INTEGER)
    surface_m2 = StringField(units.FIELD_LABELS["surface_m2"], description=_l("Surface habitable, par exemple 64,5."),
                             render_kw=DECIMAL)
    floor = StringField(units.FIELD_LABELS["floor"], description=_l("0 pour le rez-de-chaussée."),
                        render_kw=INTEGER)
    elevator = BooleanField(units.FIELD_LABELS["elevator"])
    wheelchair_accessible = BooleanField(units.FIELD_LABELS["wheelchair_accessible"])
    rent = StringField(units.FIELD_LABELS["rent"], validators=[Required()],
                       description=_l("Loyer mensuel hors charges, en euros : 412,50."), render_kw=DECIMAL)
    charges = StringField(units.FIELD_LABELS["charges"], description=_l("Charges mensuelles, en euros."),
                          render_kw=DECIMAL)
    financing = SelectField(
        units.FIELD_LABELS["financing"],
        choices=[SelectChoice("", _l("Non renseigné"))] + [SelectChoice(f, f) for f in FINANCINGS],
        description=_l("Le financement fixe le plafond de ressources (PLAI : ressources les plus faibles)."))
    in_qpv = BooleanField(units.FIELD_LABELS["in_qpv"],
                          description=_l("Le logement est situé dans un quartier prioritaire de la ville."))
    available_from = StringField(
        units.FIELD_LABELS["available_from"], validators=[Required()],
        description=_l("Date à partir de laquelle le logement peut être occupé."),
        render_kw={"type": "date"})
    temporary = BooleanField(
        units.FIELD_LABELS["temporary"],
        description=_l("Une place de mise à l'abri, pour un séjour limité : elle n'est jamais proposée comme "
                       "logement durable ; la coordination y héberge un ménage en attendant son relogement."))
    max_stay_days = StringField(units.FIELD_LABELS["max_stay_days"],
                                description=_l("Obligatoire pour une place d'urgence : 90 pour trois mois."),
                                render_kw=INTEGER)
    submit = SubmitField(_l("Enregistrer"))

    def fill(self, values: dict[str, Any]) -> None:
        """Show a unit's current values (`services.units.unit_values`), French style."""
        for name, value in values.items():
            field = getattr(self, name)
            if isinstance(field, BooleanField):
                field.data = bool(value)
            elif isinstance(value, dt.date):
                field.data = value.isoformat()
            elif name == "financing":
                field.data = value or ""
            elif isinstance(value, Decimal | float):
                field.data = _local_number(value)
            else:
                field.data = "" if value is None else str(value)

    def unit_data(self) -> dict[str, Any]:
        """The typed-in fields, for `services.units`."""
        return {name: getattr(self, name).data for name in units.FIELDS}

    def add_errors(self, errors: dict[str, Any]) -> list[str]:
        """Put the service's messages next to their fields; return those of no field."""
        return place_errors(self, errors, units.FIELDS)


class ActionForm(FlaskForm):
    """A button that changes a unit's status (publish, withdraw): only its CSRF token."""


SPREADSHEET_TYPES = (".csv,.xlsx,.xls,.ods,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,"
                     "application/vnd.ms-excel,application/vnd.oasis.opendocument.spreadsheet")


class ImportForm(FlaskForm):
    mode = SelectField(
        _l("Ce que fait le fichier"),
        choices=[SelectChoice("create", _l("Créer de nouveaux logements (brouillons)")),
                 SelectChoice("update", _l("Mettre à jour mes logements existants, par référence"))],
        default="create",
        description=_l("Pour mettre à jour : exportez vos logements, modifiez le fichier, envoyez-le ici."))
    file = FileField(
        _l("Fichier à importer"), validators=[Required()],
        description=_l("CSV (séparateur ; ou ,), XLSX, XLS ou ODS, 10 Mo et 5000 lignes au plus."),
        render_kw={"accept": SPREADSHEET_TYPES})
    submit = SubmitField(_l("Importer"))


class FilterForm(FlaskForm):
    """Filters of the list (GET, no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    commune = SelectField(_l("Commune"), choices=[], default="")
    rooms = SelectField(_l("Typologie"), default="",
                        choices=[SelectChoice("", _l("Toutes"))]
                        + [SelectChoice(str(r), units.typology(r)) for r in units.TYPOLOGIES])
    status = SelectField(_l("Statut"), default="",
                         choices=[SelectChoice("", _l("Tous"))]
                         + [SelectChoice(s, units.STATUS_LABELS[s]) for s in UNIT_STATUSES])
    submit = SubmitField(_l("Filtrer"))
