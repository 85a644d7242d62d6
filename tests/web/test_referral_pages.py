"""Referrals and follow-up through the pages (issue 18): a landlord's staff refers a tenant in
danger, the association takes her on or declines, and records the checkpoints after the lease."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
import sqlalchemy as sa

from models import Checkpoint, Household, Referral
from services import clock, proposals
from tests import factories


@pytest.fixture
def sides(db):  # type: ignore[no-untyped-def]
    landlord = factories.create_organisation(db, "landlord", departments=["59"])
    association = factories.create_organisation(db, "association", departments=["59", "62"])
    factories.create_organisation(db, "association", departments=["75"])  # not hers to choose
    staff = factories.create_user(db, "landlord", organisation=landlord)
    referent = factories.create_user(db, "association", organisation=association)
    db.commit()
    return staff, referent


def form(**kw: str) -> dict[str, str]:
    data = {"landlord_reference": "BAIL-2231", "department": "59", "adults": "1", "children": "2",
            "urgency": "3", "shares_home": "y", "consent_on": clock.today("59").isoformat(),
            "message": "Signalement de la gardienne, accord de la locataire."}
    data.update(kw)
    return data


def page(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def test_a_referral_made_in_the_pages_is_taken_on_and_followed_after_the_lease(client, db, login_as, auth, sides):
    staff, referent = sides
    login_as(staff)
    new = page(client.get("/bailleur/orientations/nouvelle"))
    assert "N'écrivez ni son nom, ni son adresse" in new
    # Only the associations of her departments are offered.
    offered = re.findall(r'<option[^>]*value="([^"]*)"', new.split('name="association"')[1].split("</select>")[0])
    assert offered == ["", referent.organisation.code]
    r = client.post("/bailleur/orientations/nouvelle", data=form(association=referent.organisation.code))
    assert r.status_code == 303
    referral = db.scalar(sa.select(Referral))
    assert referral is not None and referral.shares_home and referral.children == 2
    detail = page(client.get(r.headers["Location"]))
    assert "BAIL-2231" in detail and "L'association n'a pas encore répondu." in detail
    assert "BAIL-2231" in page(client.get("/bailleur/orientations"))
    auth.logout()

    login_as(referent)
    listing = page(client.get("/association/orientations"))
    assert "1 orientation à examiner" in listing and referral.public_id in listing
    shown = page(client.get(f"/association/orientations/{referral.public_id}"))
    assert "BAIL-2231" not in shown  # the landlord's reference may identify her tenancy
    assert "un départ du logement partagé" in shown
    r = client.post(f"/association/orientations/{referral.public_id}/accepter", data={"reference": "SF-0912"})
    assert r.status_code == 303 and r.headers["Location"].endswith("/modifier")
    household = db.scalar(sa.select(Household).where(Household.reference == "SF-0912"))
    assert household is not None and household.status == "draft" and household.children == 2
    assert "shared_home" in household.priority_categories
    # Twice: already decided.
    again = client.post(f"/association/orientations/{referral.public_id}/accepter", data={"reference": "SF-0913"},
                        follow_redirects=True)
    assert "Cette orientation a déjà été traitée." in page(again) and "SF-0912" in page(again)
    assert db.scalar(sa.select(sa.func.count()).select_from(Household)) == 1  # no second file opened

    # She still shares the home: the file cannot be activated before it says where she must
    # never be housed.
    consent = {"consent_recorded_on": dt.date.today().strftime("%d/%m/%Y")}
    refused = client.post(f"/association/menages/{household.public_id}/activer", data=consent)
    assert refused.status_code == 422 and "indiquez au moins une zone" in page(refused)
    db.expire_all()
    assert household.status == "draft"
    household.exclusion_zones = [{"department": "80"}]
    db.commit()
    # She completes the file and records the consent: the request is in matching.
    r = client.post(f"/association/menages/{household.public_id}/activer",
                    # The server's date (activation checks "not in the future" against it), not Paris's.
                    data={"consent_recorded_on": dt.date.today().strftime("%d/%m/%Y")})
    assert r.status_code == 302
    db.expire_all()
    assert household.status == "active"
    auth.logout()

    login_as(staff)
    told = page(client.get(f"/bailleur/orientations/{referral.public_id}"))
    assert "L'association l'accompagne" in told and "SF-0912" not in told
    auth.logout()

    # She is rehoused: the lease schedules the three checkpoints, the referent records one.
    unit = factories.create_unit(db, landlord=staff.organisation)
    proposal = factories.create_proposal(db, unit=unit, household=household, status="commission_accepted",
                                         commission_rank=1)
    proposals.decide(db, staff, proposal.public_id, decision="accept", step="lease")
    db.commit()
    login_as(referent)
    follow = page(client.get("/association/suivi"))
    assert "3 points de suivi à faire" in follow and follow.count("SF-0912") == 3
    three = db.scalar(sa.select(Checkpoint).where(Checkpoint.months == 3))
    url = f"/association/suivi/{three.public_id}"
    assert "Point de suivi à 3 mois — SF-0912" in page(client.get(url))
    missing = client.post(url, data={"status": "fine"})
    assert missing.status_code == 422 and "Choisissez un constat." in page(missing)
    r = client.post(url, data={"status": "fine", "outcome": "support_in_place"}, follow_redirects=True)
    assert "Point de suivi enregistré." in page(r) and "2 points de suivi à faire" in page(r)
    db.expire_all()
    assert (three.status, three.outcome, three.recorded_by_id) == ("fine", "support_in_place", referent.id)
    again = client.post(url, data={"status": "left", "outcome": "none"}, follow_redirects=True)
    assert "Ce point de suivi est déjà enregistré." in page(again) and "Rien à signaler" not in page(again)
    db.expire_all()
    assert three.status == "fine"


def test_the_referral_form_names_each_field_at_fault_and_keeps_nothing(client, db, login_as, sides):
    staff, referent = sides
    login_as(staff)
    tomorrow = (clock.today("59") + dt.timedelta(days=1)).isoformat()
    r = client.post("/bailleur/orientations/nouvelle", data=form(
        association="", adults="zéro", department="75", consent_on=tomorrow,
        message="Elle habite au 12 rue des Lilas"))
    text = page(r)
    assert r.status_code == 200 and "L'orientation n'a pas été envoyée" in text
    for message in ("Choisissez une association qui travaille dans ce département.", "Un nombre entier est attendu.",
                    "Choisissez un de vos départements.", "La date de son accord ne peut pas être dans le futur.",
                    "ressemble à une adresse"):
        assert message in text, message
    assert text.count('aria-invalid="true"') >= 5
    assert db.scalar(sa.select(sa.func.count()).select_from(Referral)) == 0
    # No date at all: her consent is required.
    r = client.post("/bailleur/orientations/nouvelle", data=form(association=referent.organisation.code,
                                                                   consent_on=""))
    assert "Indiquez la date de son accord" in page(r)


def test_a_declined_referral_tells_the_landlord_the_coded_reason(client, db, login_as, auth, sides):
    staff, referent = sides
    login_as(staff)
    client.post("/bailleur/orientations/nouvelle", data=form(association=referent.organisation.code))
    referral = db.scalar(sa.select(Referral))
    auth.logout()
    login_as(referent)
    empty = client.post(f"/association/orientations/{referral.public_id}/decliner", data={"reason": ""})
    assert empty.status_code == 422 and "Indiquez le motif." in page(empty)
    r = client.post(f"/association/orientations/{referral.public_id}/decliner", data={"reason": "no_capacity"})
    assert r.status_code == 303
    auth.logout()
    login_as(staff)
    told = page(client.get(f"/bailleur/orientations/{referral.public_id}"))
    assert "ne l'accompagnera pas : Pas de place d'accompagnement." in html.unescape(told)


@pytest.mark.parametrize("role", ["landlord", "association"])
def test_another_organisations_referral_or_checkpoint_answers_404(client, db, login_as, auth, sides, role):
    staff, referent = sides
    login_as(staff)
    client.post("/bailleur/orientations/nouvelle", data=form(association=referent.organisation.code))
    referral = db.scalar(sa.select(Referral))
    auth.logout()
    login_as(role)  # a landlord or an association of her own
    base = "/bailleur" if role == "landlord" else "/association"
    assert client.get(f"{base}/orientations/{referral.public_id}").status_code == 404
    assert referral.public_id not in page(client.get(f"{base}/orientations"))
    if role == "association":
        assert client.post(f"/association/orientations/{referral.public_id}/accepter",
                           data={"reference": "X"}).status_code == 404
        proposal = factories.create_proposal(db, status="commission_accepted", commission_rank=1)
        proposals.decide(db, factories.create_user(db, "landlord", organisation=proposal.unit.landlord),
                         proposal.public_id, decision="accept", step="lease")
        db.commit()
        checkpoint = db.scalar(sa.select(Checkpoint).where(Checkpoint.proposal_id == proposal.id))
        assert client.get(f"/association/suivi/{checkpoint.public_id}").status_code == 404
        assert client.post(f"/association/suivi/{checkpoint.public_id}",
                           data={"status": "fine", "outcome": "none"}).status_code == 404


def test_a_caretaker_refers_and_sees_nothing_else(client, db, login_as, auth, sides):
    staff, referent = sides
    caretaker = factories.create_user(db, "referrer", organisation=staff.organisation)
    colleague = factories.create_user(db, "referrer", organisation=staff.organisation)
    db.commit()
    login_as(caretaker)
    home = client.get("/", follow_redirects=True)
    assert home.request.path == "/bailleur/orientations"
    nav = page(home).split("<nav", 1)[1].split("</nav>", 1)[0]
    assert "Mes orientations" in nav and "Mes logements" not in nav and "Notifications" not in nav
    r = client.post("/bailleur/orientations/nouvelle", data=form(association=referent.organisation.code))
    assert r.status_code == 303
    referral = db.scalar(sa.select(Referral))
    assert referral.landlord_id == staff.organisation_id and referral.created_by_id == caretaker.id
    assert "BAIL-2231" in page(client.get(f"/bailleur/orientations/{referral.public_id}"))
    # Nothing else of the landlord's: units, proposals, requests, notifications, their API.
    for path in ("/bailleur/", "/bailleur/logements", "/bailleur/propositions", "/bailleur/demandes",
                 "/bailleur/notifications", "/api/v1/units", "/api/v1/proposals"):
        assert client.get(path).status_code == 404, path
    auth.logout()
    # A colleague caretaker does not read it; the landlord's staff with a full account do.
    login_as(colleague)
    assert "BAIL-2231" not in page(client.get("/bailleur/orientations"))
    assert client.get(f"/bailleur/orientations/{referral.public_id}").status_code == 404
    auth.logout()
    login_as(staff)
    assert "BAIL-2231" in page(client.get("/bailleur/orientations"))
