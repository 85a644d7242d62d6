"""Units: a landlord's own (list, create, read, edit, publish, withdraw, import); coordinators read.

Schemas check types and shape only; every rule on a unit's fields is
`services.units.validate_unit_fields`, the same as the pages and the import use.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_babel import gettext
from flask_smorest import Blueprint, abort
from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate

from models.housing import FINANCINGS, UNIT_STATUSES
from services import territory, units
from services.imports import ImportRejected
from web.api.auth import api_user, requires
from web.api.common import PageArgs, page_of
from web.config import public_url
from web.db import get_session
from web.extensions import limiter

# Money in this API: euros as a JSON number with at most two decimals (412.5 is 412,50 €), never
# a string; the server keeps exact decimals and rounds what it is sent to the cent (half up).
MONEY = "Euros per month, a JSON number with at most 2 decimals (412.5 = 412,50 €); rounded to the cent"

blp = Blueprint("units", __name__, description="Units offered by landlords")

# Set by the server from the caller and the unit's life: never taken from a request body.
SERVER_SET = ("id", "status", "landlord", "department", "published_at", "created_at", "updated_at")


class UnitSchema(Schema):
    """A unit as the API shows it (fields of the matching contract, plus reference/status/id)."""

    id = fields.String(attribute="public_id", dump_only=True, metadata={"description": "Opaque id"})
    reference = fields.String(dump_only=True)
    status = fields.String(dump_only=True, metadata={"enum": list(UNIT_STATUSES)})
    landlord = fields.Function(lambda u: u.landlord.code, dump_only=True,
                               metadata={"description": "Landlord code (as in matching instances)"})
    commune = fields.String(dump_only=True, metadata={"description": "INSEE code"})
    department = fields.String(dump_only=True)
    lat = fields.Float(dump_only=True, allow_none=True)
    lon = fields.Float(dump_only=True, allow_none=True)
    location_uncertainty_km = fields.Float(dump_only=True)
    rooms = fields.Integer(dump_only=True)
    surface_m2 = fields.Float(dump_only=True, allow_none=True)
    floor = fields.Integer(dump_only=True)
    elevator = fields.Boolean(dump_only=True)
    wheelchair_accessible = fields.Boolean(dump_only=True)
    # Money is a JSON number (euros per month), never a string.
    rent = fields.Float(dump_only=True, metadata={"description": MONEY})
    charges = fields.Float(dump_only=True, metadata={"description": MONEY})
    financing = fields.String(dump_only=True, allow_none=True, metadata={"enum": [*FINANCINGS, None]})
    in_qpv = fields.Boolean(dump_only=True)
    available_from = fields.Date(dump_only=True)
    temporary = fields.Boolean(dump_only=True, metadata={
        "description": "An emergency or temporary place: never proposed as a permanent home"})
    max_stay_days = fields.Integer(dump_only=True, allow_none=True, metadata={
        "description": "The longest stay in a temporary place, in days (null for a permanent home)"})
    published_at = fields.DateTime(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class UnitInputSchema(Schema):
    """What a landlord sends to create (or, every field optional, to edit) a unit."""

    class Meta:
        unknown = RAISE

    reference = fields.String(required=True, validate=validate.Length(min=1, max=units.REFERENCE_MAX))
    commune = fields.String(required=True, metadata={
        "description": "INSEE code (59350), or a name that designates one commune only"})
    lat = fields.Float(allow_none=True, metadata={
        "description": "WGS84; with lon, or both absent/null: the commune's point is used"})
    lon = fields.Float(allow_none=True)
    location_uncertainty_km = fields.Float(allow_none=True, metadata={
        "description": "Radius (km) the unit lies within around lat/lon; at least the "
                       "commune's radius when lat/lon are the commune's point"})
    rooms = fields.Integer(required=True, strict=True, metadata={"description": "Main rooms (T3 = 3)"})
    surface_m2 = fields.Float(allow_none=True)
    floor = fields.Integer(allow_none=True, strict=True, metadata={"description": "0 = ground floor"})
    elevator = fields.Boolean(allow_none=True)
    wheelchair_accessible = fields.Boolean(allow_none=True)
    rent = fields.Float(required=True, metadata={"description": MONEY})
    charges = fields.Float(allow_none=True, metadata={"description": MONEY})
    financing = fields.String(allow_none=True, metadata={"enum": [*FINANCINGS, None]})
    in_qpv = fields.Boolean(allow_none=True)
    available_from = fields.Date(required=True)
    temporary = fields.Boolean(allow_none=True, metadata={
        "description": "An emergency or temporary place (default false); then max_stay_days is required"})
    max_stay_days = fields.Integer(allow_none=True, strict=True, metadata={"description": "1 to 730 days"})

    @pre_load
    def _refuse_server_fields(self, data: Any, **_kw: Any) -> Any:
        """Name each server-set field a client sends, rather than ignoring it."""
        if isinstance(data, dict):
            sent = [name for name in SERVER_SET if name in data]
            if sent:
                message = gettext("Champ en lecture seule : la plateforme le fixe.")
                raise ValidationError({name: [message] for name in sent})
        return data


class UnitPatchSchema(UnitInputSchema):
    """The fields to change (any subset); `lat`/`lon` null puts the unit at its commune's point."""


class UnitQueryArgs(PageArgs):
    """Filters of the list."""

    # Bounded: a page number past the database's integers must answer 422, not 500.
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=units.MAX_PAGE))

    status = fields.String(validate=validate.OneOf(UNIT_STATUSES))
    commune = fields.String(validate=validate.Length(equal=5), metadata={"description": "INSEE code"})
    rooms = fields.Integer(validate=validate.Range(min=1, max=units.ROOMS_MAX),
                           metadata={"description": "Main rooms; 6 means 6 and more (T6+)"})
    department = fields.String(validate=validate.Length(min=2, max=3),
                               metadata={"description": "Coordinators: units of one department"})


class ImportFileSchema(Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


class ImportSummarySchema(Schema):
    created = fields.Integer()
    by_commune = fields.List(fields.Dict())
    by_typology = fields.Dict(keys=fields.String(), values=fields.Integer())
    units = fields.List(fields.Dict(), metadata={"description": "[{id, reference}] of the new units"})


class UpdateSummarySchema(Schema):
    updated = fields.Integer(metadata={"description": "How many units the file changed"})
    unchanged = fields.Integer(metadata={"description": "How many lines named a unit and changed nothing"})
    units = fields.List(fields.Dict(), metadata={"description": "[{id, reference}] of the units changed"})


def _landlord():  # type: ignore[no-untyped-def]
    organisation = api_user().organisation
    assert organisation is not None  # a landlord user always has her organisation
    return organisation


def _own_unit(unit_id: str, *, for_update: bool = False):  # type: ignore[no-untyped-def]
    return units.get_unit(get_session(), _landlord(), unit_id, for_update=for_update)


@blp.route("/units")
class Units(MethodView):
    @requires("landlord", "coordinator")
    @blp.arguments(UnitQueryArgs, location="query")
    @blp.response(200, page_of(UnitSchema))
    def get(self, args: dict[str, Any]):  # type: ignore[no-untyped-def]
        """List units: a landlord's own, or those of her territory for a coordinator"""
        user, db = api_user(), get_session()
        landlord = _landlord() if user.role == "landlord" else None
        page = units.list_units(
            db, landlord, status=args.get("status"), commune=args.get("commune"),
            rooms=args.get("rooms"), department=args.get("department"),
            within=territory.units(user) if landlord is None else None,
            page=args["page"], per_page=args["per_page"],
        )
        return {"items": page.items, "page": page.page, "per_page": page.per_page,
                "total": page.total, "pages": page.pages}

    @requires("landlord")
    @blp.arguments(UnitInputSchema)
    @blp.response(201, UnitSchema)
    def post(self, data: dict[str, Any]):  # type: ignore[no-untyped-def]
        """Create a unit (status draft)"""
        db = get_session()
        unit = units.create_unit(db, _landlord(), data, actor=api_user())
        return unit


@blp.route("/units/<unit_id>")
class UnitById(MethodView):
    @requires("landlord", "coordinator")
    @blp.response(200, UnitSchema)
    def get(self, unit_id: str):  # type: ignore[no-untyped-def]
        """Read a unit (landlord: her own; coordinator: of her territory)"""
        if api_user().role == "coordinator":
            return units.get_any_unit(get_session(), unit_id, within=territory.units(api_user()))
        return _own_unit(unit_id)

    @requires("landlord")
    @blp.arguments(UnitPatchSchema(partial=True))
    @blp.response(200, UnitSchema)
    def patch(self, data: dict[str, Any], unit_id: str):  # type: ignore[no-untyped-def]
        """Edit some fields of a unit (draft, published or withdrawn)"""
        db = get_session()
        unit = units.update_unit(db, _own_unit(unit_id, for_update=True), data, actor=api_user())
        return unit


@blp.route("/units/<unit_id>/publish", methods=["POST"])
@requires("landlord")
@blp.response(200, UnitSchema)
def publish(unit_id: str):  # type: ignore[no-untyped-def]
    """Publish a unit: draft (or withdrawn) to published"""
    db = get_session()
    unit = units.publish_unit(db, _own_unit(unit_id, for_update=True), actor=api_user())
    return unit


class PublishManySchema(Schema):
    class Meta:
        unknown = RAISE

    units = fields.List(fields.String(), required=True, validate=validate.Length(min=1, max=5000), metadata={
        "description": "Ids of the caller's draft units, e.g. the `units` of an import's answer"})


class PublishedSchema(Schema):
    published = fields.Integer()
    units = fields.List(fields.Nested(UnitSchema))


@blp.route("/units/publish", methods=["POST"])
@requires("landlord")
@blp.arguments(PublishManySchema)
@blp.response(200, PublishedSchema)
def publish_many(data: dict[str, Any]):  # type: ignore[no-untyped-def]
    """Publish several draft units at once: all or none (404 if one is not yours, 409 if one is not a draft)"""
    db = get_session()
    published = units.publish_units(db, _landlord(), data["units"], actor=api_user())
    return {"published": len(published), "units": published}


@blp.route("/units/<unit_id>/withdraw", methods=["POST"])
@requires("landlord")
@blp.response(200, UnitSchema)
def withdraw(unit_id: str):  # type: ignore[no-untyped-def]
    """Withdraw a unit: draft, published or proposed to withdrawn (a proposed unit's open proposals
    are cancelled, both sides told; 409 if allocated)"""
    db = get_session()
    unit = units.withdraw_unit(db, _own_unit(unit_id, for_update=True), actor=api_user(),
                               base_url=public_url())
    return unit


def summary_json(summary: units.ImportSummary) -> dict[str, Any]:
    """The import summary as JSON."""
    return {
        "created": summary.count,
        "by_commune": [{"commune": code, "name": name, "count": n} for code, name, n in summary.by_commune()],
        "by_typology": dict(summary.by_typology()),
        "units": [{"id": u.public_id, "reference": u.reference} for u in summary.units],
    }


@blp.route("/units/import", methods=["POST"])
@requires("landlord")
@limiter.limit("30 per hour")
@blp.arguments(ImportFileSchema, location="files")
@blp.response(201, ImportSummarySchema)
def import_units(files: dict[str, Any]):  # type: ignore[no-untyped-def]
    """Import units from a CSV, XLSX, XLS or ODS file (multipart field `file`): all rows or none"""
    upload = files["file"]
    db = get_session()
    try:
        summary = units.import_units(db, _landlord(), upload.filename or "", upload.read(), actor=api_user())
    except ImportRejected as exc:
        abort(422, messages={"rows": [e.as_dict() for e in exc.rows]})
    return summary_json(summary)


@blp.route("/units/import/update", methods=["POST"])
@requires("landlord")
@limiter.limit("30 per hour")
@blp.arguments(ImportFileSchema, location="files")
@blp.response(200, UpdateSummarySchema)
def update_units_from_file(files: dict[str, Any]):  # type: ignore[no-untyped-def]
    """Update the caller's units from a CSV, XLSX, XLS or ODS file, each line naming a unit by its `reference`

    Only the columns present change; a line that changes nothing is fine even for a proposed unit.
    All lines or none: any error answers 422 with every error by line and column.
    """
    upload = files["file"]
    db = get_session()
    try:
        summary = units.update_units_from_file(db, _landlord(), upload.filename or "", upload.read(),
                                               actor=api_user())
    except ImportRejected as exc:
        abort(422, messages={"rows": [e.as_dict() for e in exc.rows]})
    return {"updated": summary.count, "unchanged": summary.unchanged,
            "units": [{"id": u.public_id, "reference": u.reference} for u in summary.units]}
