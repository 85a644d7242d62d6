"""Households: associations push and manage their own; coordinators read those in matching.

Request bodies are checked by `services.households.validate_household_fields`, the same
rules and messages as the page form (the schemas below describe them for OpenAPI). Reading
a household's safety fields is written to the audit trail.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from flask import Response, jsonify, request
from flask.views import MethodView
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from models import Household
from models.followup import TRANSFER_REASONS
from models.housing import HOUSEHOLD_STATUSES, PRIORITY_CATEGORIES
from services import households as svc
from services import territory, transfers
from services.errors import ServiceError, ValidationError
from web.api.auth import api_user, requires
from web.api.common import PageArgs, page_of
from web.config import public_url
from web.db import get_session

blp = Blueprint("households", __name__, description="Households an association supports")

# Coordinators see households that agreed to be matched: no draft (no consent yet), no
# withdrawn request. Free-text notes stay with the association.
COORDINATOR_STATUSES = ("active", "proposed", "housed")
# What a coordinator never reads of a household (her association and the solver do).
COORDINATOR_HIDDEN = ("notes", "exclusion_zones", "preferred_points", "current_home")


class SearchAreaSchema(Schema):
    communes = fields.List(fields.String(), metadata={"description": "INSEE codes"})
    departments = fields.List(fields.String(), metadata={"description": "department codes"})


_ZONES = ("Where she must never be housed: `{lat, lon, radius_km}` (a disc), `{commune}` (INSEE code) or "
          "`{department}`; never a mix in one zone.")


class HouseholdFieldsSchema(Schema):
    """The fields a client writes (documentation: the checks are those of the page form)."""

    reference = fields.String(metadata={"description": "The association's own file number: never a name"})
    adults = fields.Integer(validate=validate.Range(1, 10))
    children = fields.Integer(validate=validate.Range(0, 15))
    monthly_income = fields.Float(metadata={"description": "euros per month"})
    housing_allowance = fields.Float(metadata={"description": "euros per month"})
    reference_income = fields.Integer(allow_none=True, metadata={"description": "annual, euros"})
    needs_wheelchair_access = fields.Boolean()
    needs_no_stairs = fields.Boolean()
    urgency = fields.Integer(validate=validate.Range(0, 3), metadata={"description": "3: immediate danger"})
    priority_categories = fields.List(fields.String(validate=validate.OneOf(PRIORITY_CATEGORIES)))
    requested_on = fields.Date()
    ready_from = fields.Date()
    search_area = fields.Nested(SearchAreaSchema)
    exclusion_zones = fields.List(fields.Dict(), metadata={"description": _ZONES})
    preferred_points = fields.List(fields.Dict(), metadata={"description": "`{lat, lon, label}`"})
    consent_recorded_on = fields.Date(allow_none=True)
    notes = fields.String(allow_none=True, metadata={"description": "Seen only by the association"})
    current_home = fields.Dict(allow_none=True, metadata={"description": (
        "She rents her home from a social landlord now: `{landlord: code, commune: INSEE code, unit: id or null}` "
        "(the commune may wait until activation). Her current unit is never proposed to her, and the zones around "
        "it (its commune, 10 km around a unit of the platform) are added to `exclusion_zones` when it is recorded. "
        "Seen only by the association")})


class HouseholdSchema(HouseholdFieldsSchema):
    """A household as the API answers it (coordinators get it without `notes`)."""

    id = fields.String(attribute="public_id", dump_only=True)
    association = fields.Function(lambda h: h.association.code, dump_only=True)
    status = fields.String(dump_only=True, validate=validate.OneOf(HOUSEHOLD_STATUSES))
    activated_at = fields.DateTime(dump_only=True, allow_none=True)
    closed_at = fields.DateTime(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)
    # What a coordinator reads instead of the zones themselves (documented here, on the one
    # schema the list declares, so every caller's answer matches the OpenAPI document).
    exclusion_zone_count = fields.Integer(dump_only=True, allow_none=True, metadata={
        "description": "how many exclusion zones she has (null: not known yet)"})
    zones_checked = fields.Function(lambda h: True, dump_only=True, metadata={
        "description": "always true: the solver and the independent checker test every proposal against them"})


class CoordinatorHouseholdSchema(HouseholdSchema):
    """A household as a coordinator reads her: never her zones, preferred points or notes.

    Only her association and the solver need where she must not live; a coordinator is told
    how many zones she has and that every proposal is checked against them.
    """

    class Meta:
        exclude = COORDINATOR_HIDDEN


class ActivationSchema(Schema):
    consent_recorded_on = fields.Date(metadata={"description": "when she agreed to be matched"})


class TransferSchema(Schema):
    reason = fields.String(required=True, metadata={
        "enum": list(TRANSFER_REASONS),
        "description": "Why she must move again at once (coded, no free text)"})


class HouseholdListArgs(PageArgs):
    """`?status=active&department=59&page=1&per_page=25`"""

    status = fields.String(validate=validate.OneOf(HOUSEHOLD_STATUSES))
    department = fields.String(validate=validate.Length(min=2, max=3))


def _body_doc(schema: type[Schema], required: bool = True) -> dict[str, Any]:
    return {"requestBody": {"required": required, "content": {"application/json": {"schema": schema}}}}


def _json_body(*, required: bool = True) -> Any:
    """The request's JSON (400 if unreadable; 413 beyond the size limit, before anything is read)."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        if required:
            raise ServiceError(_l("Un corps JSON est attendu."), field="_schema")
        return {}

    def _no_constant(name: str) -> Any:
        raise ValueError(name)  # NaN and Infinity are not JSON

    try:
        return json.loads(raw, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ServiceError(_l("JSON illisible : %(error)s", error=str(exc)[:200]), field="_schema") from exc


def _own(public_id: str) -> Household:
    return svc.get_household(get_session(), public_id, association=api_user().organisation)


@blp.route("/households")
class Households(MethodView):
    @requires("association", "coordinator")
    @blp.arguments(HouseholdListArgs, location="query")
    @blp.response(200, page_of(HouseholdSchema))
    def get(self, args: dict[str, Any]) -> Response:
        """List households (association: its own; coordinator: those in matching, without notes)"""
        user, db = api_user(), get_session()
        status = args.get("status")
        if user.role == "association":
            page = svc.list_households(db, association=user.organisation, statuses=[status] if status else None,
                                       department=args.get("department"), protected=True,
                                       page=args["page"], per_page=args["per_page"])
            schema: Schema = HouseholdSchema()
            svc.record_sensitive_read(db, page.items, actor=user)
            db.commit()
        else:
            # Her territory only, and without the encrypted columns (not even loaded).
            page = svc.list_households(db, statuses=[s for s in COORDINATOR_STATUSES if status in (None, s)],
                                       department=args.get("department"), within=territory.households(db, user),
                                       page=args["page"], per_page=args["per_page"])
            schema = CoordinatorHouseholdSchema()
        return jsonify({"items": schema.dump(page.items, many=True), "page": page.page,
                        "per_page": page.per_page, "total": page.total, "pages": page.pages})

    @requires("association")
    @blp.doc(**_body_doc(HouseholdFieldsSchema))
    @blp.response(201, HouseholdSchema)
    def post(self) -> Household:
        """Create a household (status draft; the server sets id, status and association)"""
        user, db = api_user(), get_session()
        household = svc.create_household(db, user.organisation, _json_body(), actor=user)
        db.commit()
        return household


@blp.route("/households/<string:public_id>")
class HouseholdItem(MethodView):
    @requires("association", "coordinator")
    @blp.response(200, HouseholdSchema)
    def get(self, public_id: str) -> Any:
        """Read a household (association: its own, logged; coordinator: one of her territory's
        in matching, as the list shows her: her zones counted, never read)"""
        user, db = api_user(), get_session()
        if user.role == "coordinator":
            # The list's rule for the one: her territory, the statuses of matching; the
            # encrypted columns are not even loaded (deferred), so nothing to log.
            household = svc.get_household(db, public_id, association=None, within=sa.and_(
                territory.households(db, user), Household.status.in_(COORDINATOR_STATUSES)))
            return jsonify(CoordinatorHouseholdSchema().dump(household))
        household = _own(public_id)
        svc.record_sensitive_read(db, [household], actor=user)
        db.commit()
        return household

    @requires("association")
    @blp.doc(**_body_doc(HouseholdFieldsSchema))
    @blp.response(200, HouseholdSchema)
    def patch(self, public_id: str) -> Household:
        """Change some fields of a household (a list or object given replaces the old one whole)"""
        household = _own(public_id)
        svc.update_household(get_session(), household, _json_body(), actor=api_user())
        get_session().commit()
        return household

    @requires("association")
    @blp.response(204)
    def delete(self, public_id: str) -> str:
        """Erase a household and its proposals (an audit entry without personal data remains)"""
        svc.erase_household(get_session(), _own(public_id), actor=api_user(), base_url=public_url())
        get_session().commit()
        return ""


@blp.route("/households/<string:public_id>/activate")
class Activation(MethodView):
    @requires("association")
    @blp.doc(**_body_doc(ActivationSchema, required=False))
    @blp.response(200, HouseholdSchema)
    def post(self, public_id: str) -> Household:
        """Activate a draft household: needs her consent, recorded as `consent_recorded_on`"""
        household = _own(public_id)
        svc.activate_household(get_session(), household, actor=api_user(), data=_json_body(required=False))
        get_session().commit()
        return household


@blp.route("/households/<string:public_id>/withdraw")
class Withdrawal(MethodView):
    @requires("association")
    @blp.response(200, HouseholdSchema)
    def post(self, public_id: str) -> Household:
        """Withdraw a household's request from matching"""
        household = _own(public_id)
        svc.withdraw_household(get_session(), household, actor=api_user(), base_url=public_url())
        get_session().commit()
        return household


@blp.route("/households/<string:public_id>/transfer")
class Transfer(MethodView):
    @requires("association")
    @blp.doc(**_body_doc(TransferSchema))
    @blp.response(200, HouseholdSchema)
    def post(self, public_id: str) -> Household:
        """Urgent transfer: reopen a rehoused household's file, the home she leaves added to her
        exclusion zones, at the highest urgency (`reason`: safety_incident, aggressor_found,
        threats, other); 409 if she is not rehoused through the platform"""
        body = _json_body()
        if not isinstance(body, dict):
            raise ValidationError(_l("Un objet JSON est attendu."), field="_schema")
        for key in body:
            if key != "reason":
                raise ValidationError(_l("Champ inconnu."), field=str(key))
        household = _own(public_id)
        transfers.transfer(get_session(), api_user(), household.public_id, reason=str(body.get("reason", "")),
                           base_url=public_url())
        get_session().commit()
        return household
