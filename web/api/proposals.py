"""Proposals after release: each side reads what it may, and decides in turn.

An association reads its households' proposals with the unit's description; a landlord
reads its units' proposals with the household's allow-listed profile (only once the
household has said yes). The household decides first (association), then the allocation
commission, then the lease (landlord). Anything outside the caller's reach is 404.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request
from flask.views import MethodView
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, fields, validate
from marshmallow import ValidationError as SchemaError

from models import Decision, Proposal, User
from models.leases import LEASE_KINDS
from models.runs import DECISION_STEPS, PROPOSAL_ORIGINS, PROPOSAL_STATUSES
from services import leases, profiles
from services import proposal_messages as messages_svc
from services import proposals as svc
from services.errors import ValidationError
from web.api.auth import api_user, requires
from web.api.common import PageArgs, page_of
from web.config import public_url
from web.db import get_session

blp = Blueprint("proposals", __name__, description="Proposals: the household's and the commission's decisions")


class LandlordProfileSchema(Schema):
    """The anonymised household a landlord may see: exactly `services.profiles.PROFILE_FIELDS`."""

    class Meta:
        fields = profiles.PROFILE_FIELDS
        ordered = True

    proposal_id = fields.String(metadata={"description": "This proposal's id: nothing links two "
                                                         "proposals of one household"})
    persons = fields.Integer()
    adults = fields.Integer()
    children = fields.Integer()
    income_band = fields.String(metadata={"description": "Monthly income band, e.g. 1 000–1 499 €/mois"})
    rent_burden_percent = fields.Integer(allow_none=True, metadata={
        "description": "(rent + charges − housing allowance) / income for this unit, in %"})
    needs_wheelchair_access = fields.Boolean()
    needs_no_stairs = fields.Boolean()
    association_name = fields.String()
    association_email = fields.String(allow_none=True)
    association_phone = fields.String(allow_none=True)


class UnitDescriptionSchema(Schema):
    """The unit as the household's association may see it: exactly `services.profiles.UNIT_FIELDS`."""

    class Meta:
        fields = profiles.UNIT_FIELDS
        ordered = True

    proposal_id = fields.String()
    landlord_name = fields.String()
    landlord_email = fields.String(allow_none=True)
    landlord_phone = fields.String(allow_none=True)
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
    rent_burden_percent = fields.Integer(allow_none=True)
    financing = fields.String(allow_none=True)
    in_qpv = fields.Boolean()
    available_from = fields.Date()


class ProposalDecisionSchema(Schema):
    step = fields.String(metadata={"enum": list(DECISION_STEPS)})
    outcome = fields.String(metadata={"enum": ["accept", "decline"]})
    reason = fields.String(allow_none=True, metadata={
        "description": "Coded reason; a landlord never reads the household's"})
    decided_at = fields.DateTime()


class RecordRefSchema(Schema):
    id = fields.String()
    reference = fields.String(metadata={"description": "The caller's own reference"})


class LeaseSchema(Schema):
    """The signed lease: its dates and kind (`direct`, `sliding` = bail glissant through an
    association, `sublet` = sous-location through an association)."""

    class Meta:
        unknown = RAISE
        ordered = True

    signed_on = fields.Date(required=True, metadata={"description": "Signature date (at most "
                                                     f"{leases.SIGNED_AHEAD_DAYS} days ahead, at most a year ago)"})
    move_in_on = fields.Date(required=True, metadata={"description": "Move-in date: on or after the signature, "
                                                      f"at most {leases.MOVE_IN_AFTER_DAYS} days after it"})
    kind = fields.String(required=True, validate=validate.OneOf(LEASE_KINDS), metadata={"enum": list(LEASE_KINDS)})


class _ProposalBase(Schema):
    id = fields.String()
    status = fields.String(metadata={"enum": [s for s in PROPOSAL_STATUSES
                                              if s not in svc.UNRELEASED_STATUSES]})
    origin = fields.String(metadata={"enum": list(PROPOSAL_ORIGINS), "description": "How the unit reached her: "
                                     "a matching run, a candidacy, a rehousing request, a direct match"})
    rank = fields.Integer(metadata={"description": "Rank given by the matching (1 = first choice)"})
    commission_rank = fields.Integer(allow_none=True)
    deadline = fields.Date(allow_none=True, metadata={
        "description": "Last day for the household's answer; silence is a refusal"})
    decisions = fields.List(fields.Nested(ProposalDecisionSchema))
    lease = fields.Nested(LeaseSchema, allow_none=True, metadata={
        "description": "The signed lease's dates and kind, once recorded"})


class AssociationProposalSchema(_ProposalBase):
    household = fields.Nested(RecordRefSchema)
    unit = fields.Nested(UnitDescriptionSchema)


class LandlordProposalSchema(_ProposalBase):
    unit = fields.Nested(RecordRefSchema)
    profile = fields.Nested(LandlordProfileSchema, allow_none=True, metadata={
        "description": "Shown once the household has accepted"})


class ReleasedProposalSchema(_ProposalBase):
    """A proposal as one side sees it (documentation of both shapes)."""

    household = fields.Nested(RecordRefSchema, metadata={"description": "Association only"})
    unit = fields.Dict(metadata={"description": "Association: the unit's description "
                                                "(UnitDescription); landlord: its own unit's id and reference"})
    profile = fields.Nested(LandlordProfileSchema, allow_none=True, metadata={
        "description": "Landlord only, once the household has accepted"})


class ProposalQueryArgs(PageArgs):
    status = fields.String(validate=validate.OneOf([s for s in PROPOSAL_STATUSES
                                                    if s not in svc.UNRELEASED_STATUSES]))


class ProposalDecisionArgs(Schema):
    """`{"decision": "accept"|"decline", "reason": CODE, "rank": 1..3, "step": …}`"""

    class Meta:
        unknown = RAISE

    decision = fields.String(required=True, validate=validate.OneOf(svc.DECISIONS))
    reason = fields.String(allow_none=True, load_default=None, metadata={
        "description": "Required to decline. Household: " + ", ".join(svc.HOUSEHOLD_DECLINE_LABELS)
                       + ". Commission or lease: " + ", ".join(svc.COMMISSION_REFUSAL_LABELS)})
    rank = fields.Integer(allow_none=True, load_default=None, strict=True,
                          validate=validate.Range(min=1, max=3),
                          metadata={"description": "Commission's rank of an accepted candidate"})
    step = fields.String(allow_none=True, load_default=None, validate=validate.OneOf(DECISION_STEPS),
                         metadata={"description": "household (association, default), commission "
                                                  "(landlord, default) or lease (landlord)"})
    lease = fields.Nested(LeaseSchema, allow_none=True, load_default=None, metadata={
        "description": "With step `lease` and `accept`: the lease's dates and kind (as `/lease`)"})


def view(proposal: Proposal, user: User, by_step: dict[str, Decision] | None = None) -> dict[str, Any]:
    """The proposal as `user` may see it, through that side's schema (`by_step`: its
    decisions, when the caller read those of a whole page at once)."""
    if by_step is None:
        by_step = svc.decisions_of(get_session(), proposal)
    decisions = [
        {"step": d.step, "outcome": d.outcome, "decided_at": d.decided_at,
         "reason": None if (user.role == "landlord" and d.step == "household") else d.reason}
        for d in by_step.values()
    ]
    data: dict[str, Any] = {
        "id": proposal.public_id, "status": proposal.status, "origin": proposal.origin, "rank": proposal.rank,
        "commission_rank": proposal.commission_rank, "deadline": proposal.deadline,
        "decisions": decisions, "lease": _lease_of(proposal),
    }
    if user.role == "association":
        data["household"] = {"id": proposal.household.public_id,
                             "reference": proposal.household.reference}
        data["unit"] = profiles.unit_description(proposal).as_dict()
        return AssociationProposalSchema().dump(data)  # type: ignore[no-any-return]
    data["unit"] = {"id": proposal.unit.public_id, "reference": proposal.unit.reference}
    data["profile"] = (profiles.landlord_profile(proposal).as_dict()
                       if svc.accepted_by_household(by_step) else None)
    return LandlordProposalSchema().dump(data)  # type: ignore[no-any-return]


def _lease_of(proposal: Proposal) -> dict[str, Any] | None:
    if proposal.status != "leased":
        return None
    lease = leases.of(get_session(), proposal)
    if lease is None:
        return None
    return {"signed_on": lease.signed_on, "move_in_on": lease.move_in_on, "kind": lease.kind}


def _terms(data: dict[str, Any] | None) -> leases.LeaseTerms | None:
    return None if data is None else leases.LeaseTerms(**data)


def _base_url() -> str:
    return public_url()


@blp.route("/proposals")
class Proposals(MethodView):
    @requires("association", "landlord")
    @blp.arguments(ProposalQueryArgs, location="query")
    @blp.response(200, page_of(ReleasedProposalSchema))
    def get(self, args: dict[str, Any]) -> Response:
        """List the proposals on the caller's side (released ones only)"""
        user = api_user()
        status = args.get("status")
        page = svc.list_for(get_session(), user, page=args["page"], per_page=args["per_page"],
                            statuses=(status,) if status else None)
        decisions = svc.decisions_by_proposal(get_session(), page.items)
        return jsonify({"items": [view(p, user, decisions[p.id]) for p in page.items], "page": page.page,
                        "per_page": page.per_page, "total": page.total, "pages": page.pages})


@blp.route("/proposals/<proposal_id>")
class ProposalById(MethodView):
    @requires("association", "landlord")
    @blp.response(200, ReleasedProposalSchema)
    def get(self, proposal_id: str) -> Response:
        """Read a proposal as the caller's side may see it"""
        user = api_user()
        return jsonify(view(svc.get_for(get_session(), user, proposal_id), user))


@blp.route("/proposals/<proposal_id>/decision", methods=["POST"])
@requires("association", "landlord")
@blp.doc(requestBody={"required": True, "content": {"application/json": {"schema": ProposalDecisionArgs}}})
@blp.response(200, ReleasedProposalSchema)
def decision(proposal_id: str) -> Response:
    """Decide: the household (association) first, then the commission, then the lease (landlord)"""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationError(_l("Un objet JSON est attendu."), field="_schema")
    try:
        args = ProposalDecisionArgs().load(body)
    except SchemaError as exc:
        raise ValidationError(exc.messages_dict) from exc
    user, db = api_user(), get_session()
    args["lease"] = _terms(args.get("lease"))
    proposal = svc.decide(db, user, proposal_id, base_url=_base_url(), **args)
    return jsonify(view(proposal, user))


@blp.route("/proposals/<proposal_id>/lease", methods=["POST"])
@requires("landlord")
@blp.doc(requestBody={"required": True, "content": {"application/json": {"schema": LeaseSchema}}})
@blp.response(200, ReleasedProposalSchema)
def lease(proposal_id: str) -> Response:
    """Record the lease signature with its dates and kind (a decision with step `lease` and `accept`)"""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationError(_l("Un objet JSON est attendu."), field="_schema")
    try:
        terms = LeaseSchema().load(body)
    except SchemaError as exc:
        raise ValidationError(exc.messages_dict) from exc
    user, db = api_user(), get_session()
    proposal = svc.decide(db, user, proposal_id, decision="accept", step="lease",
                          base_url=_base_url(), lease=_terms(terms))
    return jsonify(view(proposal, user))


class ProposalMessageSchema(Schema):
    """A message on a proposal: which side wrote it (never the author's name), when, what."""

    class Meta:
        ordered = True

    side = fields.String(metadata={"enum": list(messages_svc.SIDES),
                                   "description": "Who wrote it: the household's association or the landlord"})
    mine = fields.Boolean(metadata={"description": "Written by the caller's organisation"})
    body = fields.String()
    created_at = fields.DateTime()


class ProposalMessageArgs(Schema):
    """`{"body": TEXT}`: no address, place or phone number of the household."""

    class Meta:
        unknown = RAISE

    body = fields.String(required=True, metadata={
        "description": f"At most {messages_svc.BODY_MAX} characters; refused (422) when it holds what looks "
                       "like an address, a postcode or a phone number"})


class ProposalMessagesPage(Schema):
    items = fields.List(fields.Nested(ProposalMessageSchema))


@blp.route("/proposals/<proposal_id>/messages")
class ProposalMessages(MethodView):
    @requires("association", "landlord")
    @blp.response(200, ProposalMessagesPage)
    def get(self, proposal_id: str) -> Response:
        """Read the messages between the household's association and the landlord on a proposal"""
        _, items = messages_svc.thread(get_session(), api_user(), proposal_id)
        return jsonify({"items": [ProposalMessageSchema().dump(m.as_dict()) for m in items]})

    @requires("association", "landlord")
    @blp.doc(requestBody={"required": True, "content": {"application/json": {"schema": ProposalMessageArgs}}})
    @blp.response(201, ProposalMessageSchema)
    def post(self, proposal_id: str) -> tuple[Response, int]:
        """Write to the other side of a proposal (the association or the landlord), who is told"""
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise ValidationError(_l("Un objet JSON est attendu."), field="_schema")
        try:
            args = ProposalMessageArgs().load(body)
        except SchemaError as exc:
            raise ValidationError(exc.messages_dict) from exc
        message = messages_svc.post(get_session(), api_user(), proposal_id, args["body"], base_url=_base_url())
        return jsonify(ProposalMessageSchema().dump(message.as_dict())), 201
