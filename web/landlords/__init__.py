"""Pages of the landlord audience: one blueprint, gated once for the landlord role."""

from flask import Blueprint

from web.auth import guard

bp = Blueprint("landlords", __name__)
guard(bp, "landlord")

# Importing the view modules registers their routes on `bp`.
from web.landlords import proposals, requests, units, views  # noqa: E402,F401
