"""The quarter's figures for the monitoring committee and coordinators, small counts suppressed."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from services import audit, stats, territory
from services.errors import ValidationError
from web.api.auth import api_user, requires
from web.db import get_session

blp = Blueprint("stats", __name__, description="Quarterly figures (aggregates only, counts of 1 to 4 hidden)")


class StatsArgs(Schema):
    quarter = fields.String(required=True, metadata={"example": "2026-Q4"})
    departments = fields.String(load_default=None, metadata={
        "example": "59,62", "description": "Comma-separated codes; default: all of the caller's organisation"})


class CellSchema(Schema):
    value = fields.Raw(allow_none=True, metadata={"description": "null when hidden or not applicable"})
    kind = fields.String(metadata={"description": "count, days, share, money, text or delta"})
    suppressed = fields.String(metadata={
        "description": "present when hidden: small (1 to 4), masked (would let a small count be recomputed), "
                       "hidden (derived from a hidden count, or fewer than 5 households)"})


class RowSchema(Schema):
    key = fields.String(allow_none=True)
    label = fields.String()
    total = fields.Boolean()
    cells = fields.List(fields.Nested(CellSchema))


class TableSchema(Schema):
    key = fields.String()
    title = fields.String()
    columns = fields.List(fields.String())
    note = fields.String(allow_none=True)
    rows = fields.List(fields.Nested(RowSchema))


class PeriodSchema(Schema):
    key = fields.String()
    label = fields.String()
    start = fields.String(metadata={"format": "date"})
    end = fields.String(metadata={"format": "date", "description": "last day of the period"})


class StatsSchema(Schema):
    quarter = fields.String()
    departments = fields.List(fields.String())
    periods = fields.List(fields.Nested(PeriodSchema))
    small_count_threshold = fields.Integer()
    tables = fields.List(fields.Nested(TableSchema))


@blp.route("/stats")
class Stats(MethodView):
    @requires("committee", "coordinator")
    @blp.arguments(StatsArgs, location="query")
    @blp.response(200, StatsSchema)
    def get(self, args):  # type: ignore[no-untyped-def]
        """The quarter's figures for a set of departments (the quarter, the previous one, the year to date)"""
        user = api_user()
        quarter = stats.Quarter.parse(args["quarter"])
        if user.role == "coordinator":
            # Her territory; none is no department at all, never every department.
            allowed = sorted(territory.departments(user))
            if not allowed:
                raise ValidationError(_l("Votre organisation n'a aucun département."), field="departments")
        else:
            allowed = list(user.organisation.departments or []) if user.organisation else []
        departments = stats.resolve_departments(args.get("departments"), allowed)
        setting = current_app.config.get("LOWEST_QUARTILE_INCOME")
        figures = stats.quarter_figures(
            get_session(), quarter, departments,
            lowest_quartile_setting=float(setting) if setting is not None else None,
            qpv_target=float(current_app.config.get("QPV_LOWEST_QUARTILE_TARGET", stats.DEFAULT_QPV_TARGET)))
        # A download of the figures, audited as the committee's exports are.
        audit.record(get_session(), "stats.export", actor=user, object_type="report",
                     object_id=f"{quarter}:json:{','.join(departments)}"[:64])
        get_session().commit()
        return stats.to_dict(figures)
