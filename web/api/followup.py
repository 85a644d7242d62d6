"""Referrals by landlords' staff and follow-up checkpoints after the lease (issue 18).

The same services as the pages (`services.followup`); what each side reads of a referral is
its allow-list (`services.followup.referral_view`): a landlord never reads the household's
file, its proposals or where she is rehoused.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request
from flask.views import MethodView
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from marshmallow import ValidationError as SchemaError

from models.followup import CHECKPOINT_OUTCOMES, REFERRAL_DECLINE_REASONS
from services import followup as svc
from services.errors import ValidationError
from web.api.auth import api_user, requires
from web.api.common import StrictSchema, list_of
from web.db import get_session

blp = Blueprint("followup", __name__, description="Referrals by landlords' staff, follow-up after the lease")


class ReferralSchema(Schema):
    """A referral as the caller's side may read it."""

    id = fields.String()
    origin = fields.String(metadata={"description": "Always `referral`"})
    status = fields.String(metadata={"description": "`sent`, `accepted`, `declined`"})
    department = fields.String()
    adults = fields.Integer()
    children = fields.Integer()
    urgency = fields.Integer()
    shares_home = fields.Boolean(metadata={"description": "She shares the home with the aggressor"})
    is_tenant = fields.Boolean(metadata={"description": "She is already a tenant of the referring landlord"})
    site = fields.String(allow_none=True, metadata={"description": "The landlord's site or agency that refers her"})
    consent_on = fields.Date()
    message = fields.String(allow_none=True)
    decline_reason = fields.String(allow_none=True)
    created_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)
    landlord_reference = fields.String(metadata={"description": "The landlord's own reference: landlord only"})
    association = fields.Dict(metadata={"description": "`{code, name}`: landlord only"})
    landlord = fields.Dict(metadata={"description": "`{name}`: association only"})
    household = fields.Dict(allow_none=True, metadata={
        "description": "`{id, reference}` of the file opened on acceptance: association only"})


class CheckpointSchema(Schema):
    id = fields.String()
    months = fields.Integer(metadata={"description": "3, 6 or 12"})
    lease_on = fields.Date()
    due_on = fields.Date()
    status = fields.String(metadata={"description": "`due`, `fine`, `difficulties`, `left`"})
    outcome = fields.String(allow_none=True)
    recorded_at = fields.DateTime(allow_none=True)
    household = fields.Dict(metadata={"description": "`{id, reference}`"})


ReferralListSchema = list_of(ReferralSchema, "ReferralList")
CheckpointListSchema = list_of(CheckpointSchema, "CheckpointList")


class ReferralArgs(StrictSchema):
    association = fields.String(required=True, metadata={"description": "The association's code"})
    landlord_reference = fields.String(required=True, validate=validate.Length(min=1, max=80))
    department = fields.String(required=True)
    adults = fields.Integer(required=True)
    children = fields.Integer(load_default=0)
    urgency = fields.Integer(load_default=2)
    shares_home = fields.Boolean(load_default=False)
    is_tenant = fields.Boolean(load_default=False, metadata={
        "description": "She rents her home from this landlord: her file then records it as her current home"})
    site = fields.String(load_default=None, allow_none=True, metadata={
        "description": "The site or agency that refers her (a name, never an address)"})
    consent_on = fields.Date(required=True)
    message = fields.String(load_default=None, allow_none=True)


class AcceptArgs(StrictSchema):
    reference = fields.String(required=True, validate=validate.Length(min=1, max=80),
                              metadata={"description": "The association's own reference for the new file"})


class DeclineArgs(StrictSchema):
    reason = fields.String(required=True, validate=validate.OneOf(REFERRAL_DECLINE_REASONS))


class CheckpointArgs(StrictSchema):
    status = fields.String(required=True, validate=validate.OneOf(svc.RECORDED_STATUSES))
    outcome = fields.String(required=True, validate=validate.OneOf(CHECKPOINT_OUTCOMES))


class CheckpointQuery(Schema):
    household = fields.String(load_default=None)
    status = fields.String(load_default=None, validate=validate.OneOf(("due",) + svc.RECORDED_STATUSES))


def _body(schema: Schema) -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationError(_l("Un objet JSON est attendu."), field="_schema")
    try:
        return schema.load(body)  # type: ignore[no-any-return]
    except SchemaError as exc:
        raise ValidationError(exc.messages_dict) from exc


def _referral(row: Any) -> dict[str, Any]:
    return ReferralSchema().dump(svc.referral_view(row, api_user()))  # type: ignore[no-any-return]


@blp.route("/referrals")
class Referrals(MethodView):
    @requires("landlord", "referrer", "association")
    @blp.response(200, ReferralListSchema)
    def get(self) -> Response:
        """The landlord's referrals; an association's: those addressed to it"""
        rows = svc.list_referrals(get_session(), api_user())
        return jsonify({"items": [_referral(r) for r in rows]})

    @requires("landlord", "referrer")
    @blp.doc(requestBody={"required": True, "content": {"application/json": {"schema": ReferralArgs}}})
    def post(self) -> tuple[Response, int]:
        """Refer one of the landlord's tenants in danger to an association (no name, no address)"""
        args = _body(ReferralArgs())
        row = svc.refer(get_session(), api_user(), **args)
        return jsonify(_referral(row)), 201


@blp.route("/referrals/<referral_id>")
class ReferralItem(MethodView):
    @requires("landlord", "referrer", "association")
    @blp.response(200, ReferralSchema)
    def get(self, referral_id: str) -> Response:
        """Read one referral as the caller's side may"""
        return jsonify(_referral(svc.get_referral(get_session(), api_user(), referral_id)))


@blp.route("/referrals/<referral_id>/accept", methods=["POST"])
@requires("association")
@blp.doc(requestBody={"required": True, "content": {"application/json": {"schema": AcceptArgs}}})
def accept(referral_id: str) -> tuple[Response, int]:
    """Take the referred person on: a draft household file linked to the referral (201)"""
    args, db, user = _body(AcceptArgs()), get_session(), api_user()
    household = svc.accept(db, user, referral_id, reference=args["reference"])
    data = _referral(svc.get_referral(db, user, referral_id))
    data["household"] = {"id": household.public_id, "reference": household.reference, "status": household.status}
    return jsonify(data), 201


@blp.route("/referrals/<referral_id>/decline", methods=["POST"])
@requires("association")
@blp.doc(requestBody={"required": True, "content": {"application/json": {"schema": DeclineArgs}}})
@blp.response(200, ReferralSchema)
def decline(referral_id: str) -> Response:
    """Decline a referral with a coded reason"""
    args = _body(DeclineArgs())
    return jsonify(_referral(svc.decline(get_session(), api_user(), referral_id, reason=args["reason"])))


@blp.route("/checkpoints", methods=["GET"])
@requires("association")
@blp.arguments(CheckpointQuery, location="query")
@blp.response(200, CheckpointListSchema)
def checkpoints(args: dict[str, Any]) -> Response:
    """The association's follow-up checkpoints (of one household), those due first"""
    db, user = get_session(), api_user()
    household = None
    if args["household"]:
        from services.offers import _own_household

        household = _own_household(db, user, args["household"])
    rows = svc.list_checkpoints(db, user, household=household, status=args["status"])
    return jsonify({"items": [CheckpointSchema().dump(svc.checkpoint_view(c)) for c in rows]})


@blp.route("/checkpoints/<checkpoint_id>", methods=["POST"])
@requires("association")
@blp.doc(requestBody={"required": True, "content": {"application/json": {"schema": CheckpointArgs}}})
@blp.response(200, CheckpointSchema)
def record_checkpoint(checkpoint_id: str) -> Response:
    """Record a checkpoint: a status and a coded outcome (once; 409 after)"""
    args = _body(CheckpointArgs())
    row = svc.record_checkpoint(get_session(), api_user(), checkpoint_id, **args)
    return jsonify(CheckpointSchema().dump(svc.checkpoint_view(row)))
