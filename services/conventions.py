"""Conventions and commitments: recording them, and counting what was achieved.

What counts as achieved (never typed in; each from one event of the platform)
    - units_posted: a unit of the landlord published (``Unit.published_at``) in one of the
      convention's departments;
    - emergency_places: the same, for units marked ``temporary``;
    - rehousings_on_request: a lease signed (the ``lease`` decision accepted,
      ``decided_at``) on a proposal whose origin is ``request``, for a unit in the
      convention's departments; it counts for the unit's landlord and for the household's
      association;
    - shared_home_moves: the first lease signed (any origin) by a household whose categories
      include ``violence`` and ``shared_home`` (she still lived with the violent partner): one
      woman per household, the person supported, as ``stats.women_rehoused`` counts the women
      rehoused (a later lease, after an urgent transfer, is no move out of a shared home);
      same attribution;
    - staff_trained: the persons of the training sessions the coordinator recorded for
      the convention (``TrainingRecord.held_on``).
    Only events inside the convention's span and the asked period count (Paris days).

Who manages a convention
    A coordinator manages a convention whose departments are all within her
    organisation's departments (the coordination's territory).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from models import Commitment, Convention, Decision, Household, Organisation, Proposal, TrainingRecord, Unit, User
from models.conventions import COMMITMENT_KINDS
from services import clock, stats
from services import territory as territories
from services.errors import NotFound, ValidationError
from services.stats import Period, Quarter

KIND_LABELS = {
    "units_posted": _l("Logements proposés sur la plateforme"),
    "rehousings_on_request": _l("Relogements sur demande d'une association"),
    "shared_home_moves": _l("Décohabitations (sorties d'un logement partagé avec l'auteur)"),
    "emergency_places": _l("Places d'urgence ou temporaires"),
    "staff_trained": _l("Personnes formées"),
}
assert set(KIND_LABELS) == set(COMMITMENT_KINDS)
# Kinds a landlord or an association may commit to.
KINDS_OF = {
    "landlord": COMMITMENT_KINDS,
    "association": ("rehousings_on_request", "shared_home_moves", "staff_trained"),
}
_DEPARTMENT = r"^(\d{2}|2A|2B|97\d)$"


def _departments(text: Iterable[str] | str) -> list[str]:
    items = text.replace(";", ",").split(",") if isinstance(text, str) else list(text)
    return sorted({d.strip().upper() for d in items if d and d.strip()})


def _names(text: Iterable[str] | str) -> list[str]:
    items = text.splitlines() if isinstance(text, str) else list(text)
    return [n.strip() for n in items if n and n.strip()]


def territory(user: User) -> set[str]:
    """The departments a coordinator's organisation covers (services.territory's reading of them)."""
    return set(territories.departments(user))


def manages(user: User, convention: Convention) -> bool:
    """True when every department of the convention is within the coordinator's territory."""
    return bool(convention.departments) and set(convention.departments) <= territory(user)


def list_conventions(session: so.Session, departments: Iterable[str]) -> list[Convention]:
    """Conventions whose departments are all within `departments`, newest start first."""
    allowed = set(departments)
    rows = session.scalars(sa.select(Convention).order_by(Convention.starts_on.desc(), Convention.id)).all()
    return [c for c in rows if c.departments and set(c.departments) <= allowed]


def conventions_touching(session: so.Session, departments: Iterable[str]) -> list[Convention]:
    """Conventions sharing at least one department with `departments` (what a committee follows)."""
    allowed = set(departments)
    rows = session.scalars(sa.select(Convention).order_by(Convention.starts_on.desc(), Convention.id)).all()
    return [c for c in rows if set(c.departments) & allowed]


def committee_convention(session: so.Session, convention_id: int, departments: Iterable[str]) -> Convention:
    """A convention a committee follows (one of its departments in `departments`); NotFound otherwise."""
    convention = session.get(Convention, convention_id)
    if convention is None or not set(convention.departments) & set(departments):
        raise NotFound(_l("Convention introuvable."))
    return convention


def get_convention(session: so.Session, convention_id: int, user: User | None = None) -> Convention:
    """One convention; NotFound when absent or (for a coordinator) outside her territory."""
    convention = session.get(Convention, convention_id)
    if convention is None or (user is not None and not manages(user, convention)):
        raise NotFound(_l("Convention introuvable."))
    return convention


def create_convention(session: so.Session, *, user: User, title: str, parties: Iterable[str] | str,
                      funders: Iterable[str] | str, departments: Iterable[str] | str,
                      starts_on: dt.date | None, ends_on: dt.date | None) -> Convention:
    """Record a convention on the coordinator's territory.

    :raise ValidationError: naming the field (title taken, departments outside her territory,
        end not after start...).
    """
    import re

    errors: dict[str, list[Any]] = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = [_l("Le titre de la convention est obligatoire.")]
    elif session.scalar(sa.select(Convention.id).where(Convention.title == title)) is not None:
        errors["title"] = [_l("Une convention porte déjà le titre « %(t)s ».", t=title)]
    deps = _departments(departments)
    bad = [d for d in deps if not re.match(_DEPARTMENT, d)]
    if not deps:
        errors["departments"] = [_l("Indiquez au moins un département.")]
    elif bad:
        errors["departments"] = [_l("Code de département inconnu : %(d)s.", d=", ".join(bad))]
    elif not set(deps) <= territory(user):
        outside = sorted(set(deps) - territory(user))
        errors["departments"] = [_l("Hors de votre territoire : %(d)s.", d=", ".join(outside))]
    party_names = _names(parties)
    if not party_names:
        errors["parties"] = [_l("Indiquez au moins une partie signataire.")]
    if starts_on is None:
        errors["starts_on"] = [_l("La date de début est obligatoire.")]
    if ends_on is None:
        errors["ends_on"] = [_l("La date de fin est obligatoire.")]
    elif starts_on is not None and ends_on <= starts_on:
        errors["ends_on"] = [_l("La convention « %(t)s » doit finir après son début.", t=title)]
    if errors:
        raise ValidationError(errors)
    assert starts_on is not None and ends_on is not None
    convention = Convention(title=title, parties=party_names, funders=_names(funders), departments=deps,
                            starts_on=starts_on, ends_on=ends_on, created_by_id=user.id)
    session.add(convention)
    session.flush()
    return convention


def commitment_organisations(session: so.Session, convention: Convention) -> list[Organisation]:
    """Landlords and associations that may commit: those working in one of its departments."""
    rows = session.scalars(sa.select(Organisation).where(Organisation.kind.in_(tuple(KINDS_OF)))
                           .order_by(Organisation.kind.desc(), Organisation.name)).all()
    deps = set(convention.departments)
    return [o for o in rows if not o.departments or set(o.departments) & deps]


def set_commitment(session: so.Session, convention: Convention, *, organisation_id: int | None,
                   year: int | None, kind: str, target: int | None) -> Commitment:
    """Record (or change) what an organisation undertakes for a year; one row per kind and year.

    :raise ValidationError: the year outside the convention, a kind the organisation cannot
        commit to, a negative target.
    """
    errors: dict[str, list[Any]] = {}
    org = session.get(Organisation, organisation_id) if organisation_id else None
    if org is None or org.kind not in KINDS_OF:
        errors["organisation_id"] = [_l("Choisissez un bailleur ou une association.")]
    elif kind not in KINDS_OF[org.kind]:
        errors["kind"] = [_l("%(o)s ne peut pas s'engager sur « %(k)s ».", o=org.name,
                             k=KIND_LABELS.get(kind, kind))]
    years = range(convention.starts_on.year, (convention.ends_on - dt.timedelta(days=1)).year + 1)
    if year is None or year not in years:
        errors["year"] = [_l("L'année doit être comprise entre %(a)s et %(b)s (convention « %(t)s »).",
                             a=years.start, b=years.stop - 1, t=convention.title)]
    if target is None or not 0 <= target <= 100000:
        errors["target"] = [_l("L'engagement est un nombre entier positif.")]
    if errors:
        raise ValidationError(errors)
    assert org is not None and year is not None and target is not None
    row = session.scalar(sa.select(Commitment).where(
        Commitment.convention_id == convention.id, Commitment.organisation_id == org.id,
        Commitment.year == year, Commitment.kind == kind))
    if row is None:
        row = Commitment(convention=convention, organisation=org, year=year, kind=kind, target=target)
        session.add(row)
    else:
        row.target = target
    session.flush()
    return row


def record_training(session: so.Session, convention: Convention, *, user: User, organisation_id: int | None,
                    held_on: dt.date | None, persons: int | None) -> TrainingRecord:
    """Record a training session held for an organisation's staff (the event staff_trained counts)."""
    errors: dict[str, list[Any]] = {}
    org = session.get(Organisation, organisation_id) if organisation_id else None
    if org is None or org.kind not in KINDS_OF:
        errors["organisation_id"] = [_l("Choisissez un bailleur ou une association.")]
    if held_on is None or not convention.starts_on <= held_on < convention.ends_on:
        errors["held_on"] = [_l("La formation doit avoir lieu pendant la convention « %(t)s ».",
                                t=convention.title)]
    if persons is None or not 1 <= persons <= 1000:
        errors["persons"] = [_l("Le nombre de personnes formées va de 1 à 1000.")]
    if errors:
        raise ValidationError(errors)
    assert org is not None and held_on is not None and persons is not None
    record = TrainingRecord(convention_id=convention.id, organisation_id=org.id, held_on=held_on,
                            persons=persons, recorded_by_id=user.id)
    session.add(record)
    session.flush()
    return record


def trainings(session: so.Session, convention: Convention) -> list[TrainingRecord]:
    """The convention's training sessions, most recent first."""
    return list(session.scalars(sa.select(TrainingRecord).where(TrainingRecord.convention_id == convention.id)
                                .order_by(TrainingRecord.held_on.desc(), TrainingRecord.id.desc())))


# --------------------------------------------------------------------------- achievements


def _clip(convention: Convention, period: Period) -> Period | None:
    start, end = max(period.start, convention.starts_on), min(period.end, convention.ends_on)
    return Period(period.key, period.label, start, end) if start < end else None


def achievements(session: so.Session, convention: Convention, period: Period) -> Counter[tuple[int, str]]:
    """What each organisation achieved in the period, by kind: {(organisation id, kind): n}."""
    out: Counter[tuple[int, str]] = Counter()
    p = _clip(convention, period)
    if p is None:
        return out
    deps = list(convention.departments)
    units = session.execute(
        sa.select(Unit.landlord_id, Unit.temporary)
        .where(Unit.department.in_(deps), Unit.published_at >= p.start_utc, Unit.published_at < p.end_utc))
    for landlord_id, temporary in units:
        out[(landlord_id, "units_posted")] += 1
        if temporary:
            out[(landlord_id, "emergency_places")] += 1
    # Each household's first lease: she moves out of the shared home once (a later lease, after an
    # urgent transfer, is a move from the new home), as the committee counts her rehoused once.
    first = (sa.select(Proposal.household_id, sa.func.min(Decision.decided_at).label("at"))
             .join(Decision, Decision.proposal_id == Proposal.id)
             .where(Decision.step == "lease", Decision.outcome == "accept")
             .group_by(Proposal.household_id).subquery())
    leases = session.execute(
        sa.select(Unit.landlord_id, Household.association_id, Proposal.origin, Household.priority_categories,
                  Decision.decided_at == first.c.at)
        .select_from(Decision).join(Proposal, Decision.proposal_id == Proposal.id)
        .join(Unit, Proposal.unit_id == Unit.id).join(Household, Proposal.household_id == Household.id)
        .join(first, first.c.household_id == Household.id)
        .where(Decision.step == "lease", Decision.outcome == "accept", Unit.department.in_(deps),
               Decision.decided_at >= p.start_utc, Decision.decided_at < p.end_utc))
    for landlord_id, association_id, origin, categories, is_first in leases:
        kinds = []
        if origin == "request":
            kinds.append("rehousings_on_request")
        # One woman per household, the person supported, as "Femmes relogées" counts her
        # (stats.women_rehoused): the moves are a part of the women rehoused, never more.
        if is_first and "shared_home" in (categories or []) and stats.women_rehoused([categories or []]):
            kinds.append("shared_home_moves")
        for kind in kinds:
            out[(landlord_id, kind)] += 1
            out[(association_id, kind)] += 1
    trained = session.execute(
        sa.select(TrainingRecord.organisation_id, sa.func.sum(TrainingRecord.persons))
        .where(TrainingRecord.convention_id == convention.id, TrainingRecord.held_on >= p.start,
               TrainingRecord.held_on < p.end).group_by(TrainingRecord.organisation_id))
    for org_id, persons in trained:
        out[(org_id, "staff_trained")] += int(persons or 0)
    return out


def year_period(year: int) -> Period:
    """The calendar year as a period."""
    return Period(str(year), str(year), dt.date(year, 1, 1), dt.date(year + 1, 1, 1))


def progress(session: so.Session, convention: Convention, year: int) -> list[dict[str, Any]]:
    """For the coordinator: each commitment of the year with what was achieved (raw counts)."""
    done = achievements(session, convention, year_period(year))
    rows = []
    for c in sorted((c for c in convention.commitments if c.year == year),
                    key=lambda c: (c.organisation.name, COMMITMENT_KINDS.index(c.kind))):
        achieved = done[(c.organisation_id, c.kind)]
        rows.append({"commitment": c, "organisation": c.organisation, "kind": c.kind,
                     "label": KIND_LABELS[c.kind], "target": c.target, "achieved": achieved,
                     "share": achieved / c.target if c.target else None})
    return rows


def years(convention: Convention) -> list[int]:
    """The calendar years the convention covers."""
    return list(range(convention.starts_on.year, (convention.ends_on - dt.timedelta(days=1)).year + 1))


def today() -> dt.date:
    """Today in metropolitan France (the clock's default)."""
    return clock.today()


# --------------------------------------------------------------------------- committee


TARGET = "target"  # a cell kind: a commitment, public, never suppressed


def committee_tables(session: so.Session, convention: Convention, quarter: Quarter) -> list[stats.Table]:
    """Commitments against achievements for the quarter and the year to date, one table per kind,
    one row per committed organisation, suppressed (small counts and what would reveal them)."""
    q_done = achievements(session, convention, quarter.period())
    ytd_done = achievements(session, convention, quarter.year_to_date())
    tables = []
    commitments = [c for c in convention.commitments if c.year == quarter.year]
    # Landlords and associations apart: a lease counts for both, a shared total would count it twice.
    audiences = (("landlord", _l("bailleurs")), ("association", _l("associations")))
    for kind, (audience, audience_label) in ((k, a) for k in COMMITMENT_KINDS for a in audiences):
        rows = sorted((c for c in commitments if c.kind == kind and c.organisation.kind == audience),
                      key=lambda c: c.organisation.name)
        if not rows:
            continue
        table = stats.Table(
            key=f"commitments-{kind}-{audience}", title=f"{KIND_LABELS[kind]} — {audience_label}",
            columns=[str(_l("Engagement %(y)s", y=quarter.year)), quarter.label,
                     quarter.year_to_date().label, str(_l("Part de l'engagement tenue"))],
            row_header=str(_l("Organisation")))
        for c in rows:
            n = len(table.rows)
            ytd = ytd_done[(c.organisation_id, kind)]
            table.add(c.organisation.name, [
                stats.Cell(c.target, TARGET), stats.Cell(q_done[(c.organisation_id, kind)]), stats.Cell(ytd),
                stats.Cell(ytd / c.target if c.target else None, stats.SHARE, basis=((n, 2),)),
            ], key=f"org-{c.organisation_id}")
        table.add_total_row(_l("Total"), columns=[1, 2])
        total = table.rows[-1]
        total.cells[0] = stats.Cell(sum(c.target for c in rows), TARGET)
        stats.suppress_table(table)
        tables.append(table)
    return tables


@dataclass
class Section:
    """A convention as the committee reads it for a quarter: its terms and its commitment tables.

    Plain values, not the row: a frozen quarter rebuilds it from its snapshot
    (services.snapshots), where the terms are the ones the committee saw that day."""

    id: int
    title: str
    departments: list[str]
    parties: list[str]
    funders: list[str]
    starts_on: dt.date
    ends_on: dt.date
    year: int
    tables: list[stats.Table] = field(default_factory=list)


def committee_sections(session: so.Session, departments: Iterable[str], quarter: Quarter) -> list[Section]:
    """Live commitment tables of every convention touching `departments` (newest start first)."""
    return [Section(c.id, c.title, list(c.departments), list(c.parties), list(c.funders), c.starts_on, c.ends_on,
                    quarter.year, committee_tables(session, c, quarter))
            for c in conventions_touching(session, departments)]
