"""Real places of the Nord the tests put units at (the unit's commune, department and point)."""

from __future__ import annotations

LILLE = dict(commune="59350", department="59", lat=50.6292, lon=3.0573)
VILLENEUVE = dict(commune="59009", department="59", lat=50.6324, lon=3.1530)  # ~7 km from LILLE
ROUBAIX = dict(commune="59512", department="59", lat=50.6942, lon=3.1746)  # ~10 km from LILLE
DUNKERQUE = dict(commune="59183", department="59", lat=51.0301, lon=2.3367)  # ~70 km from LILLE
