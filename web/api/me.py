"""The caller's own account."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from models import ROLES
from web.api.auth import api_user, requires

blp = Blueprint("me", __name__, description="The caller's own account")


class MeSchema(Schema):
    email = fields.String(dump_only=True)
    role = fields.String(dump_only=True)
    organisation = fields.Function(lambda u: u.organisation.name if u.organisation else None)


@blp.route("/me")
class Me(MethodView):
    @requires(*ROLES)
    @blp.response(200, MeSchema)
    def get(self):  # type: ignore[no-untyped-def]
        """Who am I"""
        return api_user()
