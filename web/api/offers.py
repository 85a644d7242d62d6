"""The offer board (association), candidacies, rehousing requests and the offers on them,
direct matches (coordinator). Every pair passes `services.offers.pair_check` before a
proposal is stored; a landlord's refused offer answers "not compatible" and nothing else."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request
from flask.views import MethodView
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from marshmallow import ValidationError as SchemaError

from models import Proposal, User
from services import offers as svc
from services import photos
from services.errors import ValidationError
from web.api.auth import api_user, requires
from web.api.common import StrictSchema, list_of
from web.api.proposals import AssociationProposalSchema, LandlordProposalSchema
from web.api.proposals import view as proposal_view
from web.db import get_session
from web.photos import image

blp = Blueprint("offers", __name__, description="The offer board, rehousing requests and direct matches")


class OfferPhotoSchema(Schema):
    id = fields.String()
    caption = fields.String(metadata={"description": "What the photo shows (its text alternative)"})
    width = fields.Integer()
    height = fields.Integer()
    url = fields.Function(lambda p: f"/api/v1/photos/{p['id']}",
                          metadata={"description": "The JPEG, re-encoded without metadata"})


class OfferSchema(Schema):
    """A published unit on the board: exactly `services.offers.OFFER_FIELDS`."""

    id = fields.String()
    landlord_name = fields.String()
    commune = fields.String(metadata={"description": "INSEE code"})
    commune_name = fields.String()
    department = fields.String()
    typology = fields.String(metadata={"description": "T1…T6"})
    rooms = fields.Integer()
    surface_m2 = fields.Float(allow_none=True)
    floor = fields.Integer()
    elevator = fields.Boolean()
    wheelchair_accessible = fields.Boolean()
    rent = fields.Float()
    charges = fields.Float()
    financing = fields.String(allow_none=True)
    available_from = fields.Date()
    compatible = fields.Boolean(allow_none=True, metadata={"description": "With `household` only"})
    reasons = fields.List(fields.String(), metadata={"description": "Rule codes (matching-instance.md)"})
    photos = fields.List(fields.Nested(OfferPhotoSchema), metadata={"description": "The landlord's photos"})


class OfferArgs(Schema):
    household = fields.String(load_default=None)
    department = fields.String(load_default=None)
    min_rooms = fields.Integer(load_default=None, validate=validate.Range(min=1, max=20))
    max_rent = fields.Float(load_default=None, validate=validate.Range(min=0))
    accessible = fields.Boolean(load_default=False)


class RequestSchema(Schema):
    """A rehousing request as a landlord sees it: exactly `services.offers.REQUEST_FIELDS`."""

    id = fields.String()
    persons = fields.Integer()
    adults = fields.Integer()
    children = fields.Integer()
    income_band = fields.String()
    needs_wheelchair_access = fields.Boolean()
    needs_no_stairs = fields.Boolean()
    urgency = fields.Integer()
    departments = fields.List(fields.String())
    message = fields.String(allow_none=True)
    association_name = fields.String()
    created_at = fields.DateTime()
    status = fields.String()
    household = fields.Dict(metadata={
        "description": "`{id, reference}`: for the association that posted it only, never for a landlord"})


# Lists answer `{"items": [...]}` (web.api.common.list_of).
OfferListSchema = list_of(OfferSchema, "OfferList")
RequestListSchema = list_of(RequestSchema, "RequestList")


class CandidacyArgs(StrictSchema):
    unit = fields.String(required=True)
    household = fields.String(required=True)


class RequestArgs(StrictSchema):
    household = fields.String(required=True)
    message = fields.String(load_default=None, allow_none=True)


class RequestOfferArgs(StrictSchema):
    unit = fields.String(required=True)


class DirectArgs(StrictSchema):
    unit = fields.String(required=True)
    household = fields.String(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=200))


def _body(schema: Schema) -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationError(_l("Un objet JSON est attendu."), field="_schema")
    try:
        return schema.load(body)  # type: ignore[no-any-return]
    except SchemaError as exc:
        raise ValidationError(exc.messages_dict) from exc


def _created(proposal: Proposal, user: User) -> tuple[Response, int]:
    data = proposal_view(proposal, user) if user.role in ("association", "landlord") else {
        "id": proposal.public_id, "status": proposal.status, "deadline": proposal.deadline,
        "unit": {"id": proposal.unit.public_id}, "household": {"id": proposal.household.public_id},
        "reason": proposal.origin_reason}
    data["origin"] = proposal.origin
    return jsonify(data), 201


def _request_json(row: Any, user: User) -> dict[str, Any]:
    data: dict[str, Any] = RequestSchema().dump(svc.request_view(row).as_dict())
    if user.role == "association":
        # Her own association: its own reference to the file.
        data["household"] = {"id": row.household.public_id, "reference": row.household.reference}
    return data


@blp.route("/offers", methods=["GET"])
@requires("association")
@blp.arguments(OfferArgs, location="query")
@blp.response(200, OfferListSchema)
def offers(args: dict[str, Any]) -> Response:
    """The published units of the association's departments; with `household`, which suit her"""
    items = svc.list_offers(get_session(), api_user(), household_id=args["household"],
                            department=args["department"], min_rooms=args["min_rooms"],
                            max_rent=args["max_rent"], accessible=args["accessible"])
    return jsonify({"items": [OfferSchema().dump(o.as_dict()) for o in items]})


@blp.route("/photos/<photo_id>", methods=["GET"])
@requires("association", "landlord")
@blp.doc(responses={"200": {"description": "The photo (JPEG)", "content": {"image/jpeg": {}}}})
def photo(photo_id: str) -> Response:
    """A unit's photo: its landlord's, or an association's whose board shows the unit or whose household it
    is proposed to"""
    return image(photos.get(get_session(), api_user(), photo_id))


@blp.route("/candidacies", methods=["POST"])
@requires("association")
@blp.doc(requestBody={"required": True, "content": {"application/json": {"schema": CandidacyArgs}}})
@blp.alt_response(201, schema=AssociationProposalSchema, description="The proposal made (pending)")
def candidacies() -> tuple[Response, int]:
    """Put one of the association's households forward on a published unit"""
    args, user, db = _body(CandidacyArgs()), api_user(), get_session()
    proposal = svc.put_forward(db, user, unit_id=args["unit"], household_id=args["household"])
    return _created(proposal, user)


@blp.route("/requests")
class Requests(MethodView):
    @requires("association", "landlord")
    @blp.response(200, RequestListSchema)
    def get(self) -> Response:
        """The association's own requests; a landlord's: the open ones of its departments"""
        user, db = api_user(), get_session()
        return jsonify({"items": [_request_json(r, user) for r in svc.list_requests(db, user)]})

    @requires("association")
    @blp.doc(requestBody={"required": True, "content": {"application/json": {"schema": RequestArgs}}})
    @blp.alt_response(201, schema=RequestSchema, description="The rehousing request made")
    def post(self) -> tuple[Response, int]:
        """Post an anonymised rehousing request for one of the association's active households"""
        args, user, db = _body(RequestArgs()), api_user(), get_session()
        row = svc.post_request(db, user, household_id=args["household"], message=args["message"])
        return jsonify(_request_json(row, user)), 201


@blp.route("/requests/<request_id>/offers", methods=["POST"])
@requires("landlord")
@blp.doc(requestBody={"required": True, "content": {"application/json": {"schema": RequestOfferArgs}}})
@blp.alt_response(201, schema=LandlordProposalSchema, description="The proposal made (pending)")
def request_offers(request_id: str) -> tuple[Response, int]:
    """Offer one of the landlord's units on a request: 201, or 422 "not compatible" (no rule named)"""
    args, user, db = _body(RequestOfferArgs()), api_user(), get_session()
    try:
        proposal = svc.offer_on_request(db, user, request_id=request_id, unit_id=args["unit"])
    except svc.RefusedOfferError:
        # An error answer is rolled back at the edge: the refusal is kept for the
        # coordinator, so it is committed here.
        db.commit()
        raise
    return _created(proposal, user)


@blp.route("/proposals", methods=["POST"], endpoint="direct")
@requires("coordinator")
@blp.doc(requestBody={"required": True, "content": {"application/json": {"schema": DirectArgs}}})
@blp.alt_response(201, description="The proposal made, as the coordinator sees it (see getProposal)")
def direct() -> tuple[Response, int]:
    """A coordinator's direct match of one unit to one household, with a reason"""
    args, user, db = _body(DirectArgs()), api_user(), get_session()
    proposal = svc.direct_match(db, user, unit_id=args["unit"], household_id=args["household"],
                                reason=args["reason"])
    return _created(proposal, user)
