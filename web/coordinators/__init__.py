"""Pages of the coordinator audience: one blueprint, gated once for the coordinator role."""

from flask import Blueprint

from web.auth import guard

bp = Blueprint("coordinators", __name__)
guard(bp, "coordinator")

# Importing the view modules registers their routes on `bp`.
from web.coordinators import conventions, offers, runs, shelter, views  # noqa: E402,F401
