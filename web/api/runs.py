"""Match runs: start one, follow it, read its proposals, drop some, release it (coordinators)."""

from __future__ import annotations

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from services import runs, territory
from web.api.auth import api_user, requires
from web.api.common import PageArgs, page_of
from web.config import public_url
from web.db import get_session
from web.jobs import enqueue_run, run_liveness

blp = Blueprint("match_runs", __name__, description="Match runs and the proposals they produce (coordinators)")


class PolicySchema(Schema):
    """Policy keys of the matching contract; absent keys take the territory's values."""

    class Meta:
        unknown = "raise"

    max_effort_rate = fields.Float(validate=validate.Range(min=0, min_inclusive=False, max=1))
    candidates_per_unit = fields.Integer(validate=validate.Range(min=1, max=runs.MAX_CANDIDATES_PER_UNIT))
    horizon_days = fields.Integer(validate=validate.Range(min=0, max=3650))
    occupancy = fields.Dict(keys=fields.String(), values=fields.List(fields.Integer()))
    income_ceilings = fields.Dict(keys=fields.String(), values=fields.List(fields.Float()))
    lowest_quartile_income = fields.Float(validate=validate.Range(min=0))
    qpv_lowest_quartile_share = fields.Float(validate=validate.Range(min=0, max=1))
    qpv_score_tolerance = fields.Float(validate=validate.Range(min=0, max=1))


class RunStartSchema(Schema):
    departments = fields.List(fields.String(validate=validate.Length(min=2, max=3)), required=True,
                              validate=validate.Length(min=1, max=120),
                              metadata={"example": ["59", "62"]})
    policy = fields.Nested(PolicySchema, load_default=None)


class RunSchema(Schema):
    id = fields.String(attribute="public_id", dump_only=True)
    status = fields.String(dump_only=True)
    phase = fields.String(dump_only=True, allow_none=True)
    phase_label = fields.Function(lambda r: str(runs.PHASE_LABELS.get(r.phase or "", r.phase or "")),
                                  dump_only=True)
    progress = fields.Float(dump_only=True)
    departments = fields.List(fields.String(), dump_only=True)
    policy = fields.Dict(dump_only=True)
    stats = fields.Dict(dump_only=True, allow_none=True)
    # Why a failed run failed: a stable code for programs, and the words in the caller's language.
    error_code = fields.Function(lambda r: (e := runs.run_error(r)) and e.code, dump_only=True, allow_none=True,
                                 metadata={"example": "crashed",
                                           "description": "silent, dead, not_queued, refused_by_checker "
                                                          "or crashed; null unless failed"})
    error = fields.Function(lambda r: (e := runs.run_error(r)) and e.message, dump_only=True, allow_none=True)
    attempt = fields.Integer(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    started_at = fields.DateTime(dump_only=True, allow_none=True)
    finished_at = fields.DateTime(dump_only=True, allow_none=True)
    released_at = fields.DateTime(dump_only=True, allow_none=True)


class ProposalSchema(Schema):
    id = fields.String(attribute="public_id", dump_only=True)
    unit = fields.Function(lambda p: p.unit.public_id, dump_only=True)
    household = fields.Function(lambda p: p.household.public_id, dump_only=True)
    rank = fields.Integer(dump_only=True)
    score = fields.Float(dump_only=True)
    components = fields.Dict(keys=fields.String(), values=fields.Float(), dump_only=True)
    status = fields.String(dump_only=True)
    drop_reason = fields.String(dump_only=True, allow_none=True)
    deadline = fields.Date(dump_only=True, allow_none=True)


class DropSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=3, max=200))


def _run(run_id: str):  # type: ignore[no-untyped-def]
    """A run of the caller's territory (404 for another's, as for none)."""
    db = get_session()
    return runs.get_run(db, run_id, within=territory.runs(db, api_user()))


@blp.route("/match-runs")
class MatchRuns(MethodView):
    @requires("coordinator")
    @blp.arguments(RunStartSchema)
    @blp.response(202, RunSchema)
    @blp.doc(parameters=[{"in": "header", "name": "Idempotency-Key", "required": False,
                          "schema": {"type": "string", "maxLength": 80},
                          "description": "The same key (a retry) returns the same run and starts one job."}])
    def post(self, args):  # type: ignore[no-untyped-def]
        """Start a run for some departments (queued; follow it with GET)"""
        db = get_session()
        run, created = runs.start_run(
            db, actor=api_user(), departments=args["departments"],
            policy_overrides=args.get("policy") or {},
            idempotency_key=request.headers.get("Idempotency-Key"),
            liveness=run_liveness(current_app),
        )
        if created:
            # After the request's commit (web.db); the queue down answers 503 and fails the run.
            enqueue_run(current_app, db, run)
        return run


@blp.route("/match-runs/<run_id>")
class MatchRunItem(MethodView):
    @requires("coordinator")
    @blp.response(200, RunSchema)
    def get(self, run_id: str):  # type: ignore[no-untyped-def]
        """A run: status, phase, progress, statistics"""
        return _run(run_id)


@blp.route("/match-runs/<run_id>/proposals")
class MatchRunProposals(MethodView):
    @requires("coordinator")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_of(ProposalSchema))
    def get(self, paging, run_id: str):  # type: ignore[no-untyped-def]
        """Every proposal of a run, with its score components"""
        page = runs.list_proposals(get_session(), _run(run_id), paging["page"], paging["per_page"])
        return {"items": page.items, "page": page.page, "per_page": page.per_page,
                "total": page.total, "pages": page.pages}


@blp.route("/match-runs/<run_id>/proposals/<proposal_id>/drop")
class DropProposal(MethodView):
    @requires("coordinator")
    @blp.arguments(DropSchema)
    @blp.response(200, ProposalSchema)
    def post(self, args, run_id: str, proposal_id: str):  # type: ignore[no-untyped-def]
        """Set a proposal aside before release, with a reason"""
        db = get_session()
        proposal = runs.drop_proposal(db, _run(run_id), proposal_id, args["reason"], actor=api_user())
        db.commit()
        return proposal


@blp.route("/match-runs/<run_id>/restart")
class RestartRun(MethodView):
    @requires("coordinator")
    @blp.response(202, RunSchema)
    def post(self, run_id: str):  # type: ignore[no-untyped-def]
        """Start a failed run again"""
        db = get_session()
        run = runs.restart_run(db, _run(run_id), actor=api_user(), liveness=run_liveness(current_app))
        enqueue_run(current_app, db, run)
        return run


@blp.route("/match-runs/<run_id>/release")
class ReleaseRun(MethodView):
    @requires("coordinator")
    @blp.response(200, RunSchema)
    def post(self, run_id: str):  # type: ignore[no-untyped-def]
        """Send the reviewed proposals to associations and landlords (counts in stats.release)"""
        db = get_session()
        run = _run(run_id)
        runs.release_run(db, run, actor=api_user(), reply_days=int(current_app.config["PROPOSAL_REPLY_DAYS"]),
                         base_url=public_url())
        db.commit()
        return run
