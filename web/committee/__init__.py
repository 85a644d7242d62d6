"""Pages of the committee audience: one blueprint, gated once for the committee role.

Committee members see aggregates only: nothing here opens a household, a proposal, a
unit or a location; every figure has been through `services.stats.suppress`.
"""

from flask import Blueprint

from web.auth import guard

bp = Blueprint("committee", __name__)
guard(bp, "committee")

# Importing the view modules registers their routes on `bp`.
from web.committee import activity, conventions, views, years  # noqa: E402,F401
