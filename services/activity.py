"""The activity figures associations report to their funders (issue 17): referrals received,
households supported and households rehoused, month by month and by association, from the
platform's own events (never typed in).

- referrals received: a landlord's referral (`Referral.created_at`), in the department of her
  current home, by the association it was sent to;
- households supported: a file active at some time in the month (activated before its end,
  not closed nor rehoused before its start); the year's column counts each household once,
  so it is not the sum of the months;
- households rehoused: her first lease (the committee's definition, `services.stats`).

For the committee every table goes through the small-count rule (`stats.suppress_table`),
with the groups that add up: each row's months and its year (events only), and each column's
associations and its total. An association reads its own row unsuppressed: the counts are of
its own files, which it knows one by one, and no other organisation's figure is on its page.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import format_date
from flask_babel import lazy_gettext as _l

from models import Referral
from services import stats
from services.stats import Group, Period, Table

KINDS = ("referrals", "supported", "rehoused")
TITLES = {
    "referrals": _l("Orientations reçues des bailleurs"),
    "supported": _l("Ménages accompagnés (dossier actif dans le mois)"),
    "rehoused": _l("Ménages relogés (premier bail signé)"),
}
# A household supported in two months is one household in the year: the year is not a sum.
ADDITIVE = {"referrals": True, "supported": False, "rehoused": True}


def months(year: int) -> list[Period]:
    out = []
    for m in range(1, 13):
        start = dt.date(year, m, 1)
        end = dt.date(year + (m == 12), m % 12 + 1, 1)
        out.append(Period(f"{year}-{m:02d}", format_date(start, "MMM"), start, end))
    return out


def year_period(year: int) -> Period:
    return Period(str(year), str(year), dt.date(year, 1, 1), dt.date(year + 1, 1, 1))


def _supported(h: stats.HouseholdFacts, p: Period) -> bool:
    return (h.activated_at is not None and h.activated_at < p.end_utc
            and (h.closed_at is None or h.closed_at >= p.start_utc)
            and (h.leased_at is None or h.leased_at >= p.start_utc))


def counts(session: so.Session, year: int, departments: list[str],
           association_id: int | None = None) -> dict[str, dict[int, list[int]]]:
    """Raw counts (NOT for display to anyone but the association itself): kind -> association
    -> the 12 months then the year."""
    data = stats.read_data(session, departments)
    periods = [*months(year), year_period(year)]
    out: dict[str, dict[int, list[int]]] = {k: {} for k in KINDS}

    def add(kind: str, org: int, hits: list[bool]) -> None:
        row = out[kind].setdefault(org, [0] * len(periods))
        for i, hit in enumerate(hits):
            row[i] += int(hit)

    for h in data.households:
        if association_id is not None and h.association_id != association_id:
            continue
        add("supported", h.association_id, [_supported(h, p) for p in periods])
        add("rehoused", h.association_id, [p.contains(h.leased_at) for p in periods])
    q = sa.select(Referral.association_id, Referral.created_at).where(Referral.department.in_(departments))
    if association_id is not None:
        q = q.where(Referral.association_id == association_id)
    for org, created_at in session.execute(q):
        add("referrals", org, [p.contains(created_at) for p in periods])
    return out


def tables(session: so.Session, year: int, departments: list[str], *,
           association_id: int | None = None) -> list[Table]:
    """One table per kind: a row per association, the 12 months and the year. Suppressed,
    except for an association reading its own (``association_id``)."""
    raw = counts(session, year, departments, association_id)
    names = stats.read_data(session, departments).org_names if association_id is None else {}
    columns = [p.label for p in months(year)] + [str(year)]
    out = []
    for kind in KINDS:
        t = Table(f"activity-{kind}", str(TITLES[kind]), columns, row_header=str(_l("Association")))
        for org in sorted(raw[kind], key=lambda i: names.get(i, "")):
            r = t.add(names.get(org, str(_l("Votre association"))), raw[kind][org], key=f"org:{org}")
            if ADDITIVE[kind]:
                t.groups.append(Group([(r, c) for c in range(12)], (r, 12)))
        if association_id is None:
            t.add_total_row(_l("Total"))
            stats.suppress_table(t)
        out.append(t)
    return out
