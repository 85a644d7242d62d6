"""A household's right of access: everything stored about her, as one JSON download."""

from __future__ import annotations

import json

from flask import Response
from flask_login import current_user

from services import households as household_service
from services import privacy
from web.associations import bp
from web.db import get_session


@bp.route("/menages/<public_id>/export")
def export_household(public_id: str):  # type: ignore[no-untyped-def]
    """Download what the platform stores about one of the association's households (audited)."""
    db = get_session()
    household = household_service.get_household(db, public_id, association=current_user.organisation)
    document = privacy.export_household(db, household, actor=current_user)
    db.commit()
    body = json.dumps(document, ensure_ascii=False, indent=2, sort_keys=False)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="menage-{household.public_id}.json"'},
    )
