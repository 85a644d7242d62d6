"""Snapshot solves for the committee: unmet needs now, and "what if the policy changed?".

A snapshot is the instance a match run for these departments would solve today (built by
:func:`services.runs.build_instance`, the runs' own builder: published units, active
households, earlier decisions as locked and forbidden pairs), solved in memory with
:func:`matching.solve`. Nothing is stored here: no run, no proposal, no
change for any household.

Only aggregates leave this module, as :class:`services.stats.Table` objects that have been
through :func:`services.stats.suppress_table` (counts of 1 to 4 become "< 5").

Unmet needs
    Households without a rank-1 proposal, by household size, with the rules the solver
    gives as blocking her (a household blocked by several rules counts under each):
    size, rent burden, accessibility (wheelchair or stairs), zones (search area or
    exclusion zones), dates, income ceiling, earlier refusals, competition (units she
    could take went to others). For each size: the rent (rent + charges) the median
    household can bear at the policy's rent burden ceiling, and how many published units
    of a fitting size are under it. Units that received no proposal at all, by number of
    rooms, with the furthest rule that stopped every candidate: for each household, the
    first rule the pair breaks in the order dates, size, search area, exclusion zones,
    wheelchair, stairs, rent burden, income ceiling, earlier refusals; the unit's reason is
    the latest of these first rules over all households (what stopped the households that
    came closest).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

import matching
from models import MatchRun
from services import policy as policies
from services import runs, stats
from services.errors import ValidationError
from services.stats import COUNT, MONEY, SHOWN, TEXT, Cell, Table

#: Pairs examined at most to explain units without proposal (beyond, the table is left out).
UNIT_EXPLANATION_LIMIT = 400_000

SIZE_BUCKETS = ("1", "2", "3", "4", "5+")
HOUSEHOLD_REASON_COLUMNS = (
    ("size", ("size",), _l("Taille")),
    ("rent_burden", ("rent_burden",), _l("Taux d'effort")),
    ("accessibility", ("wheelchair", "stairs"), _l("Accessibilité")),
    ("zones", ("search_area", "exclusion_zone"), _l("Zones")),
    ("dates", ("dates",), _l("Dates")),
    ("income_ceiling", ("income_ceiling",), _l("Plafond de ressources")),
    ("forbidden", ("forbidden",), _l("Refus antérieur")),
    ("competition", ("competition",), _l("Concurrence")),
)
UNIT_REASON_LABELS = {
    "dates": _l("Dates"),
    "size": _l("Aucun ménage de cette taille"),
    "search_area": _l("Hors des zones de recherche"),
    "exclusion_zone": _l("Dans des zones d'exclusion"),
    "wheelchair": _l("Accessibilité fauteuil"),
    "stairs": _l("Escaliers"),
    "rent_burden": _l("Trop cher pour les ménages"),
    "income_ceiling": _l("Plafond de ressources"),
    "forbidden": _l("Refus antérieur"),
    "competition": _l("Concurrence"),
}


def size_bucket(persons: int) -> str:
    return "5+" if persons >= 5 else str(persons)


def size_label(bucket: str) -> str:
    if bucket == "1":
        return str(_l("1 personne"))
    if bucket == "5+":
        return str(_l("5 personnes ou plus"))
    return str(_l("%(n)s personnes", n=bucket))


def baseline_policy(session: so.Session, departments: list[str]) -> dict[str, Any]:
    """The policy runs for these departments use: the coordination team's covering them, else defaults."""
    return policies.for_departments(session, departments)


def snapshot(session: so.Session, departments: list[str], policy: Mapping[str, Any],
             as_of: dt.date | None = None) -> runs.BuiltInstance:
    """The instance a run for these departments would solve today, with this policy (nothing stored)."""
    probe = MatchRun(public_id="whatif", departments=list(departments), policy=dict(policy))
    return runs.build_instance(session, probe, as_of or runs.today())


def _persons(h: matching.Household) -> int:
    return h.adults + h.children


# --------------------------------------------------------------------------- unmet needs


@dataclass
class UnmetNeeds:
    """Suppressed tables, and sentences written from their shown values only."""

    households: Table
    offer: Table
    units: Table | None
    sentences: list[str]
    counts: dict[str, int]


def _fits(bounds: tuple[int, int], persons: int) -> bool:
    return bounds[0] <= persons <= bounds[1]


def _rooms_for(policy: matching.Policy, persons: int) -> int | None:
    for rooms, (lo, hi) in enumerate(policy.occupancy, start=1):
        if lo <= persons <= hi:
            return rooms
    return None


def unmet_needs(session: so.Session, departments: list[str], *, policy: Mapping[str, Any] | None = None,
                as_of: dt.date | None = None) -> UnmetNeeds:
    """Why households are still waiting and units go unproposed, for these departments, today."""
    built = snapshot(session, departments, policy or baseline_policy(session, departments), as_of)
    inst = built.instance
    result = matching.solve(inst)
    by_id = {h.id: h for h in inst.households}

    # Households without a rank 1, by size and reason.
    cols = [_l("Ménages sans proposition")] + [label for _k, _r, label in HOUSEHOLD_REASON_COLUMNS]
    ht = Table("unmet_households", str(_l("Ménages sans proposition, par taille et règle bloquante")),
               [str(c) for c in cols], row_header=str(_l("Taille du ménage")),
               note=str(_l("Un ménage bloqué par plusieurs règles compte dans chacune.")))
    rows: dict[str, list[int]] = {b: [0] * len(cols) for b in SIZE_BUCKETS}
    waiting: dict[str, list[matching.Household]] = {b: [] for b in SIZE_BUCKETS}
    for um in result.unmatched:
        h = by_id[um.household]
        b = size_bucket(_persons(h))
        waiting[b].append(h)
        rows[b][0] += 1
        for i, (_k, rules, _label) in enumerate(HOUSEHOLD_REASON_COLUMNS, start=1):
            if set(rules) & set(um.reasons):
                rows[b][i] += 1
    for b in SIZE_BUCKETS:
        ht.add(size_label(b), rows[b], key=f"size:{b}")
    ht.add_total_row(_l("Total"))
    stats.suppress_table(ht)

    # What would have to be offered: bearable rent and fitting units, per size.
    ocols = [_l("Ménages sans proposition"), _l("Typologie adaptée"),
             _l("Loyer + charges supportable (médiane)"), _l("Logements publiés de cette taille"),
             _l("dont sous ce montant")]
    ot = Table("unmet_offer", str(_l("Ce qu'il faudrait proposer")), [str(c) for c in ocols],
               row_header=str(_l("Taille du ménage")),
               note=str(_l("Loyer supportable : taux d'effort maximal × revenu + aide au logement. "
                           "Médiane publiée à partir de 5 ménages.")))
    rate = inst.policy.max_effort_rate
    for b in SIZE_BUCKETS:
        hs = waiting[b]
        r = len(ot.rows)
        bearable = statistics.median([rate * h.monthly_income + h.housing_allowance for h in hs]) if hs else None
        # The typical size of the bucket (5+: the median size of those waiting).
        min_persons = int(b) if b != "5+" else (
            int(statistics.median_high([_persons(h) for h in hs])) if hs else 5)
        rooms = _rooms_for(inst.policy, min_persons)
        fitting = [u for u in inst.units
                   if _fits(inst.policy.occupancy[min(u.rooms, 6) - 1], min_persons)]
        under = [u for u in fitting if bearable is not None and u.rent + u.charges <= bearable]
        typology = f"T{rooms}+" if rooms else "—"
        ot.add(size_label(b), [
            Cell(len(hs)), Cell(typology, TEXT),
            Cell(bearable, MONEY, basis=((r, 0),), min_n=stats.SMALL),
            Cell(len(fitting)),
            # How many units are under the bearable rent tells the rent itself: hidden with it.
            Cell(len(under), COUNT, basis=((r, 2),)),
        ], key=f"size:{b}")
    stats.suppress_table(ot)
    for row in ot.rows:
        under_cell = row.cells[4]
        if under_cell.basis and not ot.cell(under_cell.basis[0]).shown and under_cell.status == SHOWN:
            under_cell.status = stats.HIDDEN
    sentences = []
    for row in ot.rows:
        n, typ, rent, fitting_cell, under_cell = row.cells
        if n.shown and n.value and rent.shown and under_cell.shown:
            sentences.append(str(_l(
                "%(n)s ménages de %(size)s attendent : %(under)s logement(s) %(typ)s publié(s) à moins de "
                "%(rent)s (loyer + charges) dans ces départements, sur %(fitting)s de cette taille.",
                n=stats.display(n), size=row.label.lower(), under=stats.display(under_cell), typ=typ.value,
                rent=stats.display(rent), fitting=stats.display(fitting_cell))))

    # Units with no proposal at all.
    proposed_units = {p.unit for p in result.proposals}
    idle = [u for u in inst.units if u.id not in proposed_units]
    unit_table: Table | None = None
    if len(idle) * max(1, len(inst.households)) <= UNIT_EXPLANATION_LIMIT:
        reasons = [_unit_reason(inst, u) for u in idle]
        order = list(UNIT_REASON_LABELS)
        used = [r for r in order if r in set(reasons)]
        ucols = [_l("Logements sans proposition")] + [UNIT_REASON_LABELS[r] for r in used]
        unit_table = Table("unmet_units", str(_l("Logements sans aucune proposition, par typologie et raison")),
                           [str(c) for c in ucols], row_header=str(_l("Typologie")))
        for rooms in range(1, 7):
            sel = [reason for u, reason in zip(idle, reasons, strict=True) if min(u.rooms, 6) == rooms]
            c = Counter(sel)
            unit_table.add("T6+" if rooms == 6 else f"T{rooms}", [len(sel)] + [c[r] for r in used], key=f"T{rooms}")
        unit_table.add_total_row(_l("Total"))
        stats.suppress_table(unit_table)
    counts = {"units": len(inst.units), "households": len(inst.households)}
    return UnmetNeeds(ht, ot, unit_table, sentences, counts)


def _unit_reason(inst: matching.Instance, unit: matching.Unit) -> str:
    from matching.domain import RULES
    from matching.validation import pair_failures

    furthest = -1
    for h in inst.households:
        failures = pair_failures(inst, unit, h)
        if not failures:
            return "competition"
        furthest = max(furthest, RULES.index(failures[0]))
    return RULES[furthest] if furthest >= 0 else "size"


# --------------------------------------------------------------------------- what-if


POLICY_KEYS = ("max_effort_rate", "horizon_days", "candidates_per_unit", "qpv_lowest_quartile_share")


@dataclass
class WhatIf:
    """The comparison table (suppressed) and the two policies compared."""

    table: Table
    baseline: dict[str, Any]
    variant: dict[str, Any]
    counts: dict[str, int]


def _with_quartile(policy: dict[str, Any], inst: matching.Instance) -> dict[str, Any]:
    """The QPV share needs a poorest-quartile threshold: the first quartile of the snapshot's incomes."""
    if policy.get("qpv_lowest_quartile_share") is not None and policy.get("lowest_quartile_income") is None:
        incomes = [h.monthly_income for h in inst.households]
        if len(incomes) >= 2:
            policy["lowest_quartile_income"] = statistics.quantiles(incomes, n=4, method="inclusive")[0]
        elif incomes:
            policy["lowest_quartile_income"] = incomes[0]
    return policy


def matched_counts(inst: matching.Instance, result: matching.Result) -> dict[str, int]:
    """Households with a rank-1 proposal: in all, by urgency, size bucket and priority category."""
    by_id = {h.id: h for h in inst.households}
    counts: Counter[str] = Counter()
    for p in result.proposals:
        if p.rank != 1:
            continue
        h = by_id[p.household]
        counts["all"] += 1
        counts[f"urgency:{h.urgency}"] += 1
        counts[f"size:{size_bucket(_persons(h))}"] += 1
        for cat in h.priority_categories:
            counts[f"category:{cat}"] += 1
    return dict(counts)


def population_counts(inst: matching.Instance) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for h in inst.households:
        counts["all"] += 1
        counts[f"urgency:{h.urgency}"] += 1
        counts[f"size:{size_bucket(_persons(h))}"] += 1
        for cat in h.priority_categories:
            counts[f"category:{cat}"] += 1
    return dict(counts)


def category_label(code: str) -> str:
    return str({
        "violence": _l("Violences conjugales ou familiales"), "dalo": _l("DALO"),
        "disability": _l("Handicap"), "homeless": _l("Sans logement"),
        "unfit_housing": _l("Logement indigne"), "overcrowding": _l("Suroccupation"),
        "eviction": _l("Expulsion"), "shared_home": _l("Décohabitation"),
    }.get(code, code))


def validate_changes(session: so.Session, departments: list[str], changes: Mapping[str, Any]) -> dict[str, Any]:
    """The simulated policy: today's for these departments with `changes`, checked as a run's would be.

    :raise ValidationError: a parameter that cannot be changed here, or a value a run refuses.
    """
    unknown = set(changes) - set(POLICY_KEYS)
    if unknown:
        raise ValidationError({k: [_l("Paramètre non modifiable ici.")] for k in sorted(unknown)})
    base = baseline_policy(session, departments)
    return runs.validate_policy({**base, **{k: v for k, v in changes.items() if v is not None}})


def what_if(session: so.Session, departments: list[str], changes: Mapping[str, Any], *,
            as_of: dt.date | None = None) -> WhatIf:
    """Solve today's snapshot with the current policy and with `changes`; compare who gets matched.

    Nothing is written (the ask is audited by services.snapshot_solves, which runs this in a worker).
    """
    variant = validate_changes(session, departments, changes)
    base = baseline_policy(session, departments)
    as_of = as_of or runs.today()
    built = snapshot(session, departments, base, as_of)
    inst = built.instance
    base_result = matching.solve(inst)
    variant = _with_quartile(dict(variant), inst)
    variant_inst = matching.instance_from_dict({**matching.instance_to_dict(inst), "policy": variant})
    variant_result = matching.solve(variant_inst)
    population = population_counts(inst)
    before, after = matched_counts(inst, base_result), matched_counts(variant_inst, variant_result)
    table = comparison_table(population, before, after)
    return WhatIf(table, base, variant, {"units": len(inst.units), "households": len(inst.households)})


def comparison_table(population: Mapping[str, int], before: Mapping[str, int], after: Mapping[str, int]) -> Table:
    """Rows: all, urgency levels, sizes, categories; columns: households, matched now, matched if, change."""
    cols = [_l("Ménages actifs"), _l("Avec proposition (politique actuelle)"),
            _l("Avec proposition (politique simulée)"), _l("Écart")]
    t = Table("whatif", str(_l("Effet de la politique simulée")), [str(c) for c in cols],
              row_header=str(_l("Ménages")),
              note=str(_l("Écart masqué quand l'un des deux effectifs l'est.")))

    def add(label: Any, key: str) -> int:
        r = len(t.rows)
        t.add(label, [Cell(population.get(key, 0)), Cell(before.get(key, 0)), Cell(after.get(key, 0)),
                      Cell(after.get(key, 0) - before.get(key, 0), stats.DELTA, basis=((r, 1), (r, 2)))], key=key)
        return r

    total = add(_l("Tous les ménages"), "all")
    t.rows[total].is_total = True
    urg = [add(_l("Urgence %(n)s", n=level), f"urgency:{level}") for level in (3, 2, 1, 0)]
    sizes = [add(size_label(b), f"size:{b}") for b in SIZE_BUCKETS]
    cats = sorted({k.split(":", 1)[1] for k in population if k.startswith("category:")})
    for cat in cats:
        add(category_label(cat), f"category:{cat}")
    for parts in (urg, sizes):
        for c in range(3):
            t.groups.append(stats.Group([(r, c) for r in parts], (total, c)))
    return stats.suppress_table(t)
