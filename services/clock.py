"""One clock: "today" where the household and the unit are, overseas departments included.

Reply deadlines, expiry and the matching's `as_of` are calendar days of the territory: a
proposal of a unit in Guadeloupe expires at midnight in Pointe-à-Pitre, not in Paris (six
hours earlier in winter), nor at the server's midnight (UTC).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
# Departments and overseas collectivities (INSEE codes) that are not on Paris time.
ZONES: dict[str, ZoneInfo] = {code: ZoneInfo(name) for code, name in {
    "971": "America/Guadeloupe",
    "972": "America/Martinique",
    "973": "America/Cayenne",
    "974": "Indian/Reunion",
    "975": "America/Miquelon",
    "976": "Indian/Mayotte",
    "977": "America/St_Barthelemy",
    "978": "America/Marigot",
    "986": "Pacific/Wallis",
    "987": "Pacific/Tahiti",
    "988": "Pacific/Noumea",
}.items()}


def utcnow() -> dt.datetime:
    """The current instant (the one place tests move the clock)."""
    return dt.datetime.now(dt.UTC)


def zone(department: str | None) -> ZoneInfo:
    """The time zone of a department (metropolitan France and Corsica: Paris)."""
    return ZONES.get(department or "", PARIS)


def today(department: str | None = None) -> dt.date:
    """Today in this department (Paris when none is given)."""
    return utcnow().astimezone(zone(department)).date()


def today_for(departments: Iterable[str]) -> dt.date:
    """Today for several departments: their day if they all are on the same one, else Paris's."""
    now = utcnow()
    days = {now.astimezone(zone(d)).date() for d in departments}
    return days.pop() if len(days) == 1 else now.astimezone(PARIS).date()


def latest_today() -> dt.date:
    """The latest "today" of every territory (where the date changes first)."""
    now = utcnow()
    return max(now.astimezone(z).date() for z in (PARIS, *ZONES.values()))
