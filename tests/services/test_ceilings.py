"""Income ceilings on by default: the shipped table, the official household categories,
the zones (Paris and its adjacent communes), a run, the offer board and the load command's
service (all or nothing)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

import matching
from matching.validation import pair_failures
from models import IncomeCeiling, Proposal, RefusedOffer
from services import ceilings, offers, runs
from services.errors import ValidationError
from tests import factories

PARIS = dict(commune="75112", department="75", lat=48.8396, lon=2.3876)
ISSY = dict(commune="92040", department="92", lat=48.8231, lon=2.2646)  # adjacent to Paris
ANTONY = dict(commune="92002", department="92", lat=48.7539, lon=2.2975)  # not adjacent
AS_OF = dt.date(2026, 11, 22)


@pytest.mark.parametrize(("adults", "children", "disability", "young_couple", "expected"), [
    (1, 0, False, False, 1),   # une personne seule
    (1, 0, True, False, 2),    # une personne seule en situation de handicap
    (2, 0, False, False, 2),   # deux personnes sans personne à charge
    (2, 0, False, True, 3),    # jeune ménage sans personne à charge
    (2, 0, True, False, 3),    # deux personnes dont une en situation de handicap
    (1, 1, False, False, 3),   # une personne seule avec une personne à charge
    (1, 1, True, False, 3),    # ... and a disability: still 3 (2 persons + 1)
    (3, 0, False, False, 3),   # trois personnes
    (1, 2, False, False, 4),   # une personne seule avec deux personnes à charge
    (2, 1, False, False, 3),   # a couple and a child: three persons
    (2, 2, False, False, 4),
    (2, 1, True, False, 4),    # trois personnes dont une en situation de handicap
    (1, 3, False, False, 5),
    (1, 4, False, False, 6),   # une personne seule avec quatre personnes à charge
    (2, 4, False, False, 6),   # six personnes
    (1, 5, False, False, 7),   # past 6: one extra person
    (2, 6, True, False, 9),
])
def test_official_category(adults, children, disability, young_couple, expected):
    assert ceilings.category(adults, children, disability=disability, young_couple=young_couple) == expected


def test_household_category_reads_the_disability_priority():
    assert ceilings.household_category({"adults": 1, "children": 0, "priority_categories": ["disability"]}) == 2
    assert ceilings.household_category({"adults": 1, "children": 2, "priority_categories": ["violence"]}) == 4


@pytest.mark.parametrize(("commune", "zone"), [
    ("75056", "paris"), ("75112", "paris"), ("92040", "paris"), ("93066", "paris"),
    ("94080", "paris"), ("92002", "idf"), ("93008", "idf"), ("77288", "idf"), ("95018", "idf"),
    ("59350", "other"), ("13055", "other"), ("2A004", "other"), ("97411", None),
])
def test_zone_of_commune(commune, zone):
    assert ceilings.zone_of_commune(commune) == zone


def test_the_shipped_table():
    table = ceilings.shipped()
    assert table.year == 2026
    assert len(ceilings.communes_limitrophes()) == 29
    assert all(ceilings.zone_of_commune(c) == "paris" for c in ceilings.communes_limitrophes())
    # PLUS 2026 as published (OpenFisca France), categories 1-6 and per extra person.
    assert table.row("PLUS", "paris") == (26920, 40233, 52740, 62968, 74919, 84304, 9394)
    assert table.row("PLUS", "idf") == (26920, 40233, 48362, 57930, 68577, 77171, 8598)
    assert table.row("PLUS", "other") == (23403, 31254, 37584, 45374, 53376, 60156, 6710)
    for zone in ("paris", "idf", "other"):
        plus, pls, plai = (table.row(f, zone) for f in ("PLUS", "PLS", "PLAI"))
        assert plus and pls and plai
        assert all(abs(s - p * 1.3) <= 0.5 for p, s in zip(plus, pls, strict=True))  # PLS = 130 % PLUS
        assert all(a < p for a, p in zip(plai, plus, strict=True))  # PLAI: the lowest incomes
        assert list(plai[:6]) == sorted(plai[:6])
    assert table.row("PLI", "paris") is None
    # OpenFisca's typo (218805) is not carried into the derived PLAI table.
    assert table.row("PLAI", "paris")[1] < 30000


def _paris_run(db, **unit_kw):
    association = factories.create_organisation(db, "association", departments=["75", "92"])
    landlord = factories.create_organisation(db, "landlord", departments=["75", "92"])
    unit = factories.create_unit(db, landlord=landlord, financing="PLAI", **{**PARIS, **unit_kw})
    area = {"communes": [], "departments": ["75", "92"]}
    # A mother and her child: category 3; Paris PLAI category 3 = 31 642 €.
    under = factories.create_household(db, association=association, children=1, reference_income=31642,
                                       search_area=area)
    over = factories.create_household(db, association=association, children=1, reference_income=31643,
                                      search_area=area)
    run = factories.create_run(db, status="running", departments=["75", "92"], policy=dict(runs.DEFAULT_POLICY))
    return association, landlord, unit, under, over, run


def test_a_paris_plai_unit_refuses_a_household_over_its_ceiling_in_a_default_run(db):
    _a, _l, unit, under, over, run = _paris_run(db)
    assert "income_ceilings" not in run.policy  # no setting touched
    built = runs.build_instance(db, run, AS_OF)
    inst = built.instance
    u = next(x for x in inst.units if x.id == unit.public_id)
    h_under = next(x for x in inst.households if x.id == under.public_id)
    h_over = next(x for x in inst.households if x.id == over.public_id)
    assert pair_failures(inst, u, h_under) == []
    assert pair_failures(inst, u, h_over) == ["income_ceiling"]
    result = matching.solve(inst)
    assert {p.household for p in result.proposals} == {under.public_id}
    assert next(m for m in result.unmatched if m.household == over.public_id).reasons == ("income_ceiling",)
    assert matching.check(inst, result) == []
    # The checker rejects a result that proposes the unit to the household over the ceiling.
    forged = matching.Result(proposals=(matching.Proposal(
        unit=unit.public_id, household=over.public_id, rank=1, score=0.0, components={}),), unmatched=())
    assert "income_ceiling" in {v.code for v in matching.check(inst, forged)}


def test_an_adjacent_commune_uses_the_paris_ceilings(db):
    # PLUS category 3: 52 740 € in Paris and its adjacent communes, 48 362 € in the rest of IdF.
    association = factories.create_organisation(db, "association", departments=["92"])
    household = factories.create_household(db, association=association, children=1, reference_income=50000,
                                           search_area={"communes": [], "departments": ["92"]})
    issy = factories.create_unit(db, financing="PLUS", **ISSY)
    antony = factories.create_unit(db, financing="PLUS", **ANTONY)
    assert offers.pair_check(db, issy, household, as_of=AS_OF).failures == ()
    assert offers.pair_check(db, antony, household, as_of=AS_OF).failures == ("income_ceiling",)


def test_candidacy_request_offer_and_direct_match_apply_the_ceiling(db):
    association, landlord, unit, under, over, _run = _paris_run(db)
    referent = factories.create_user(db, "association", organisation=association)
    with pytest.raises(ValidationError) as refused:
        offers.put_forward(db, referent, unit_id=unit.public_id, household_id=over.public_id)
    assert refused.value.errors["rules"] == ["income_ceiling"]
    # On a request, the landlord is told "not compatible" and nothing else.
    request = offers.post_request(db, referent, household_id=over.public_id)
    owner = factories.create_user(db, "landlord", organisation=landlord)
    with pytest.raises(offers.RefusedOfferError) as not_compatible:
        offers.offer_on_request(db, owner, request_id=request.public_id, unit_id=unit.public_id)
    assert not_compatible.value.errors == {"unit": [offers.NOT_COMPATIBLE]}
    assert db.scalar(sa.select(RefusedOffer.rules)) == ["income_ceiling"]
    coordinator_org = factories.create_organisation(db, "coordinator", departments=["75", "92"])
    coordinator = factories.create_user(db, "coordinator", organisation=coordinator_org)
    with pytest.raises(ValidationError) as direct:
        offers.direct_match(db, coordinator, unit_id=unit.public_id, household_id=over.public_id,
                            reason="urgence")
    assert direct.value.errors["rules"] == ["income_ceiling"]
    assert db.scalar(sa.select(sa.func.count()).select_from(Proposal)) == 0
    # Under the ceiling, the candidacy goes through.
    proposal = offers.put_forward(db, referent, unit_id=unit.public_id, household_id=under.public_id)
    assert proposal.status == "household_accepted"


def test_the_form_shows_the_ceiling_the_solver_applies(db):
    _a, _l, unit, under, _over, run = _paris_run(db)
    table = ceilings.table_for(db, AS_OF)
    shown = ceilings.household_ceilings(table, under, ["75"])
    assert shown["category"] == 3
    [paris] = shown["zones"]
    assert paris["zone"] == "paris"
    inst = runs.build_instance(db, run, AS_OF).instance
    u = next(x for x in inst.units if x.id == unit.public_id)
    h = next(x for x in inst.households if x.id == under.public_id)
    assert paris["amounts"]["PLAI"] == matching.domain.income_ceiling_for(u.income_ceiling, h.ceiling_category)
    assert paris["amounts"]["PLAI"] == 31642
    # Hauts-de-Seine holds both zones: the form shows both.
    assert [z["zone"] for z in ceilings.household_ceilings(table, under, ["92"])["zones"]] == ["paris", "idf"]


def _csv(year: int = 2027, factor: float = 1.01, skip: str | None = None, bad: str | None = None) -> str:
    lines = [",".join(ceilings.HEADER)]
    for (fin, zone), amounts in sorted(ceilings.shipped().rows.items()):
        if f"{fin} {zone}" == skip:
            continue
        values = [str(round(a * factor)) for a in amounts]
        if f"{fin} {zone}" == bad:
            values[2] = "trente mille"
        lines.append(",".join([str(year), fin, zone, *values]))
    return "\n".join(lines) + "\n"


def test_a_loaded_year_replaces_the_shipped_table_from_its_year_on(db):
    assert ceilings.load_csv(db, _csv(2027), source="arrêté 2027") == 2027
    assert db.scalar(sa.select(sa.func.count()).select_from(IncomeCeiling)) == 9
    assert ceilings.table_for(db, dt.date(2026, 12, 31)).year == 2026  # the shipped one
    table = ceilings.table_for(db, dt.date(2027, 1, 1))
    assert table.year == 2027 and table.source == "arrêté 2027"
    assert table.row("PLUS", "other")[0] == round(23403 * 1.01)
    # Reloading a year replaces it, it does not add to it.
    ceilings.load_csv(db, _csv(2027, factor=1.02), source="rectificatif")
    assert db.scalar(sa.select(sa.func.count()).select_from(IncomeCeiling)) == 9
    assert ceilings.table_for(db, dt.date(2027, 6, 1)).row("PLUS", "other")[0] == round(23403 * 1.02)


def test_a_bad_file_loads_nothing_and_names_line_and_field(db):
    with pytest.raises(ValidationError) as bad:
        ceilings.load_csv(db, _csv(2027, bad="PLUS idf"), source="x")
    [message] = bad.value.errors["file"]
    # rows sorted: PLAI x3, PLS x3, then PLUS idf on the 7th data line, line 8 of the file
    assert message.startswith("ligne 8, champ category_3 :") and "trente mille" in message
    with pytest.raises(ValidationError) as missing:
        ceilings.load_csv(db, _csv(2027, skip="PLS paris"), source="x")
    assert "PLS paris" in missing.value.errors["file"][0]
    assert db.scalar(sa.select(sa.func.count()).select_from(IncomeCeiling)) == 0
