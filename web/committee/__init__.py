"""Pages of the committee audience: one blueprint, gated once for the committee role."""

from flask import Blueprint

from web.auth import guard

bp = Blueprint("committee", __name__)
guard(bp, "committee")

# Importing the view modules registers their routes on `bp`.
from web.committee import views  # noqa: E402,F401
