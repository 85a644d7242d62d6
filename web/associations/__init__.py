"""Pages of the association audience: one blueprint, gated once for the association role."""

from flask import Blueprint

from web.auth import guard

bp = Blueprint("associations", __name__)
guard(bp, "association")

# Importing the view modules registers their routes on `bp`.
from web.associations import activity, households, offers, privacy, proposals, referrals, transfers  # noqa: E402,F401
