"""Pages of the landlord audience: one blueprint, gated once for the landlord roles.

A `referrer` (a caretaker, a tenancy officer) passes the gate too, and the access table
(web/access.py) lets her reach the referral pages only: every other page answers 404."""

from flask import Blueprint

from web.auth import guard

bp = Blueprint("landlords", __name__)
guard(bp, "landlord", "referrer")

# Importing the view modules registers their routes on `bp`.
from web.landlords import photos, proposals, referrals, requests, units, views  # noqa: E402,F401
