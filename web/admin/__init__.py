"""Pages of the admin audience: one blueprint, gated once for the admin role."""

from flask import Blueprint

from web.auth import guard

bp = Blueprint("admin", __name__)
guard(bp, "admin")

# Importing the view modules registers their routes on `bp`.
from web.admin import accounts, views  # noqa: E402,F401
