"""Realistic demo data: a Hauts-de-France / Île-de-France partnership.

Three landlords, three associations, a coordination team and a committee; about 150
units and 250 households on real communes of the Nord, Pas-de-Calais, Somme, Paris and
Seine-Saint-Denis, drawn by the solver's own generator and stored through the same
services a landlord or a referent uses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from matching import instance_to_dict
from matching.generate import generate
from models import Organisation, Proposal, User, utcnow
from services import accounts, clock, households, leases, units

# `passerelle demo` refuses production mode: its accounts' passwords and second-factor
# secrets are published in this file.
PRODUCTION_REFUSAL = ("passerelle demo refuses PASSERELLE_ENV=production: its accounts' passwords "
                      "and second-factor secrets are public. Run it on a development instance only.")


@dataclass(frozen=True)
class DemoAccount:
    role: str
    email: str
    password: str
    organisation: str
    # Second-factor secret of the demo (roles that require one), printed by `passerelle demo`:
    # add it to an authenticator app, or compute the code with `pyotp.TOTP(secret).now()`.
    totp_secret: str | None = None


ORGANISATIONS = [
    ("landlord", "Lille Métropole Habitat", ["59"]),
    ("landlord", "Pas-de-Calais Habitat", ["62", "80"]),
    ("landlord", "Paris Habitat", ["75", "93"]),
    ("association", "Solidarité Femmes Lille", ["59", "62"]),
    ("association", "Association Amiénoise Solidarité Femmes", ["80", "62"]),
    ("association", "ESPEREM Paris", ["75", "93"]),
    ("coordinator", "Coordination régionale Pass'Logement", ["59", "62", "80", "75", "93"]),
    ("committee", "Comité de suivi Hauts-de-France / Île-de-France", ["59", "62", "80", "75", "93"]),
]

# Passwords of the demo only: printed by `passerelle demo`, never used in production.
ACCOUNTS = [
    DemoAccount("landlord", "bailleur@lmh.demo", "demo-bailleur-lille", "Lille Métropole Habitat"),
    DemoAccount("landlord", "bailleur@pdc-habitat.demo", "demo-bailleur-artois",
                "Pas-de-Calais Habitat"),
    DemoAccount("landlord", "bailleur@paris-habitat.demo", "demo-bailleur-paris", "Paris Habitat"),
    # A caretaker of Lille Métropole Habitat: she refers tenants in danger, sees nothing else.
    DemoAccount("referrer", "gardienne@lmh.demo", "demo-gardienne-lille", "Lille Métropole Habitat"),
    DemoAccount("association", "referente@sf-lille.demo", "demo-referente-lille",
                "Solidarité Femmes Lille"),
    DemoAccount("association", "referente@sf-amiens.demo", "demo-referente-amiens",
                "Association Amiénoise Solidarité Femmes"),
    DemoAccount("association", "referente@esperem.demo", "demo-referente-paris", "ESPEREM Paris"),
    DemoAccount("coordinator", "coordination@passerelle.demo", "demo-coordination",
                "Coordination régionale Pass'Logement", "JKSVT5EEO4EUDDR3PXNK6B3L4A4ZLMOY"),
    DemoAccount("committee", "comite@passerelle.demo", "demo-comite-de-suivi",
                "Comité de suivi Hauts-de-France / Île-de-France", "DLKP6MNYWNUIWZYO4UKHB247DV3CWFRO"),
    DemoAccount("admin", "admin@passerelle.demo", "demo-administration",
                "Coordination régionale Pass'Logement", "ANB3XR4S3ASSOXQRV6ECHY3VGZDEIYLO"),
]


def load(session: so.Session) -> bool:
    """Load the demo data unless some organisation already exists; True if it was loaded."""
    if session.scalar(sa.select(sa.func.count()).select_from(Organisation)):
        return False
    orgs = {}
    for kind, name, departments in ORGANISATIONS:
        orgs[name] = accounts.create_organisation(
            session, kind=kind, name=name, departments=departments,
            contact_email=f"contact@{name.split()[0].lower()}.demo",
        )
    for account in ACCOUNTS:
        user = accounts.create_user(session, email=account.email, role=account.role,
                                    password=account.password, organisation=orgs[account.organisation])
        if account.totp_secret:
            # Enrolled in advance with a published secret: the demo must stay usable.
            user.totp_secret = account.totp_secret
            user.totp_confirmed_at = utcnow()
    _load_supply_and_demand(session, orgs)
    return True


DEMO_DEPARTMENTS = ("59", "62", "80", "75", "93")
# Which landlord owns the units of a department, which association supports the
# households searching first in it.
LANDLORD_OF = {"59": "Lille Métropole Habitat", "62": "Pas-de-Calais Habitat",
               "80": "Pas-de-Calais Habitat", "75": "Paris Habitat", "93": "Paris Habitat"}
ASSOCIATION_OF = {"59": "Solidarité Femmes Lille", "62": "Solidarité Femmes Lille",
                  "80": "Association Amiénoise Solidarité Femmes", "75": "ESPEREM Paris",
                  "93": "ESPEREM Paris"}
REFERENCE_PREFIX = {"Solidarité Femmes Lille": "SFL", "Association Amiénoise Solidarité Femmes": "AASF",
                    "ESPEREM Paris": "ESP", "Lille Métropole Habitat": "LMH",
                    "Pas-de-Calais Habitat": "PDCH", "Paris Habitat": "PH"}


def _load_supply_and_demand(session: so.Session, orgs: dict[str, Organisation],
                            n_units: int = 150, n_households: int = 250) -> None:
    today = clock.today()
    instance = instance_to_dict(generate(n_households, n_units, seed=2026,
                                         departments=DEMO_DEPARTMENTS, as_of=today,
                                         locked=0, forbidden=0))
    counters: dict[str, int] = {}

    def reference(org: str) -> str:
        counters[org] = counters.get(org, 0) + 1
        return f"{REFERENCE_PREFIX[org]}-{today.year}-{counters[org]:04d}"

    for i, raw in enumerate(instance["units"]):
        landlord = LANDLORD_OF[raw["commune"][:2]]
        fields: dict[str, Any] = {k: v for k, v in raw.items() if k not in ("id", "landlord")}
        fields["reference"] = reference(landlord)
        fields["available_from"] = max(today, dt.date.fromisoformat(raw["available_from"])).isoformat()
        unit = units.create_unit(session, orgs[landlord], fields)
        if i % 10:  # one unit in ten stays a draft
            units.publish_unit(session, unit)

    for i, raw in enumerate(instance["households"]):
        area = raw.get("search_area") or {}
        first = (area.get("departments") or [c[:2] for c in area.get("communes", [])] or ["59"])[0]
        association = ASSOCIATION_OF[first]
        fields = {k: v for k, v in raw.items() if k not in ("id", "association")}
        fields["reference"] = reference(association)
        household = households.create_household(session, orgs[association], fields, actor=None)
        if i % 12:  # one household in twelve is still a draft, without consent yet
            consent = min(today, dt.date.fromisoformat(raw["requested_on"]) + dt.timedelta(days=3))
            households.activate_household(session, household, actor=None,
                                          data={"consent_recorded_on": consent.isoformat()})


HOUSEHOLD_DECLINES = ("too_far_from_school", "unsafe_area", "too_expensive", "too_small",
                      "household_found_housing")
COMMISSION_REFUSALS = ("incomplete_file", "income_ceiling", "household_refused")
# The demo's signed leases, in turn: the three kinds the committee counts.
DEMO_LEASE_KINDS = ("direct", "sliding", "sublet")


def play_first_round(session: so.Session, sessionmaker: Callable[[], so.Session]) -> dict[str, int]:
    """Run a first match, release it, and let people decide on part of it, as in real life.

    The coordinator's run goes through the same job, checker and services as a real one;
    then some households accept or decline (with coded reasons), some commissions accept
    or refuse, and some leases are signed — so that every audience has something to see.
    """
    from services import proposals, runs

    by_email = {u.email: u for u in session.scalars(sa.select(User))}
    coordinator = by_email["coordination@passerelle.demo"]
    run, _ = runs.start_run(session, actor=coordinator, departments=DEMO_DEPARTMENTS)
    session.commit()
    runs.execute_run(sessionmaker, run.id, run.attempt)
    session.expire_all()
    runs.release_run(session, run, actor=coordinator, reply_days=10)
    session.flush()

    staff: dict[int, User] = {}
    for user in by_email.values():
        if user.organisation_id is not None and user.role in ("landlord", "association"):
            staff.setdefault(user.organisation_id, user)
    pending = session.scalars(
        sa.select(Proposal).where(Proposal.run_id == run.id, Proposal.status == "pending",
                                  Proposal.rank == 1).order_by(Proposal.score.desc())
    ).all()
    counts = {"declined": 0, "accepted": 0, "refused": 0, "promised": 0, "leased": 0}
    for i, proposal in enumerate(pending):
        referent = staff[proposal.household.association_id]
        landlord = staff[proposal.unit.landlord_id]
        if i % 6 == 5:  # some stay pending: the household has 10 days to answer
            continue
        if i % 6 == 4:
            proposals.decide(session, referent, proposal.public_id, decision="decline",
                             reason=HOUSEHOLD_DECLINES[i % len(HOUSEHOLD_DECLINES)])
            counts["declined"] += 1
            continue
        proposals.decide(session, referent, proposal.public_id, decision="accept")
        counts["accepted"] += 1
        if i % 6 == 3:  # waiting for the commission
            continue
        if i % 6 == 2:
            proposals.decide(session, landlord, proposal.public_id, decision="decline",
                             reason=COMMISSION_REFUSALS[i % len(COMMISSION_REFUSALS)])
            counts["refused"] += 1
            continue
        proposals.decide(session, landlord, proposal.public_id, decision="accept", rank=1)
        counts["promised"] += 1
        if i % 6 == 0:
            signed = clock.today(proposal.unit.department)
            proposals.decide(session, landlord, proposal.public_id, decision="accept", step="lease",
                             lease=leases.LeaseTerms(signed_on=signed, move_in_on=signed + dt.timedelta(days=14),
                                                     kind=DEMO_LEASE_KINDS[counts["leased"] % 3]))
            counts["leased"] += 1
    return counts


# The demo's emergency places (issue 18): a studio in Lille, a T2 in Paris, a T1 in Amiens.
DEMO_PLACES = (
    ("Lille Métropole Habitat", {"commune": "59350", "lat": 50.6311, "lon": 3.0469, "rooms": 1, "rent": 290,
                                 "charges": 40, "floor": 0, "surface_m2": 24}),
    ("Paris Habitat", {"commune": "75119", "lat": 48.8841, "lon": 2.3822, "rooms": 2, "rent": 410,
                       "charges": 60, "floor": 3, "elevator": True, "surface_m2": 41}),
    ("Pas-de-Calais Habitat", {"commune": "80021", "lat": 49.8941, "lon": 2.2958, "rooms": 1, "rent": 270,
                               "charges": 35, "floor": 1, "surface_m2": 26}),
)
DEMO_STAY_DAYS = 90


def play_before_and_after(session: so.Session) -> dict[str, int]:
    """What surrounds the matching: emergency places (one sheltering a woman in immediate
    danger) and the caretaker's referrals of tenants (one awaiting the association, one taken
    on, her file recording her current home). Through the services, as the pages do."""
    from services import followup, shelter

    by_email = {u.email: u for u in session.scalars(sa.select(User))}
    coordinator = by_email["coordination@passerelle.demo"]
    orgs = {o.name: o for o in session.scalars(sa.select(Organisation))}
    today = clock.today()
    counts = {"places": 0, "sheltered": 0, "referrals": 0}
    for i, (landlord, place) in enumerate(DEMO_PLACES):
        fields: dict[str, Any] = {"reference": f"{REFERENCE_PREFIX[landlord]}-URG-{i + 1}", "temporary": True,
                                  "max_stay_days": DEMO_STAY_DAYS, "available_from": today.isoformat(),
                                  "financing": "PLAI", **place}
        unit = units.create_unit(session, orgs[landlord], fields)
        units.publish_unit(session, unit)
        counts["places"] += 1
    # One place shelters the most urgent household it suits (the others stay free to show).
    free = next((p for p in shelter.places(session, coordinator) if p.candidates), None)
    if free is not None:
        shelter.shelter(session, coordinator, unit_id=free.unit.public_id,
                        household_id=free.candidates[0].household.public_id)
        counts["sheltered"] += 1
    caretaker, referent = by_email["gardienne@lmh.demo"], by_email["referente@sf-lille.demo"]
    association = orgs["Solidarité Femmes Lille"]
    for n, message in enumerate(("Signalée par la gardienne ; elle accepte d'être accompagnée.",
                                 "Incident signalé par le voisinage, accord de la locataire.")):
        referral = followup.refer(session, caretaker, association=association.code, landlord_reference=f"LMH-B-{n + 1}",
                                  department="59", adults=1, children=1 + n, urgency=2 + n,
                                  consent_on=today - dt.timedelta(days=2), shares_home=True, is_tenant=True,
                                  site="Agence Lille Centre", message=message)
        counts["referrals"] += 1
        if n == 1:
            followup.accept(session, referent, referral.public_id, reference=f"SFL-{today.year}-ORI-1")
    return counts
