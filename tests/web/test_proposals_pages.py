"""The proposals pages: the referent answers, the landlord's commission decides, the lease closes.

What a landlord's page shows of a household is checked against what must never appear.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from models import Notification
from services.worklists import reference
from tests import factories


@pytest.fixture
def case(db):
    landlord = factories.create_organisation(db, "landlord", name="Habitat Nord")
    association = factories.create_organisation(db, "association", name="Solidarité Test",
                                                contact_phone="03 20 99 99 99")
    unit = factories.create_unit(db, landlord=landlord, reference="LMH-REF-42")
    household = factories.create_household(
        db, association=association, reference="DOSSIER-SECRET-7", notes="Il habite rue Nationale",
        exclusion_zones=[{"commune": "59512"}], search_area={"communes": ["59350"], "departments": []},
    )
    proposal = factories.create_proposal(db, unit=unit, household=household,
                                         deadline=dt.date.today() + dt.timedelta(days=5))
    rival = factories.create_proposal(db, unit=unit, run=proposal.run, rank=2)

    class Case:
        pass

    c = Case()
    c.landlord, c.association, c.unit, c.household, c.proposal, c.rival = (
        landlord, association, unit, household, proposal, rival)
    c.lu = factories.create_user(db, "landlord", organisation=landlord)
    c.au = factories.create_user(db, "association", organisation=association)
    return c


def text(response):
    return response.get_data(as_text=True)


def test_referent_sees_the_unit_and_accepts(client, login_as, case, db):
    login_as(case.au)
    listing = text(client.get("/association/propositions"))
    assert case.proposal.public_id in listing and "Lille" in listing and "DOSSIER-SECRET-7" in listing
    assert case.rival.public_id not in listing  # another association's household
    page = client.get(f"/association/propositions/{case.proposal.public_id}")
    body = text(page)
    assert page.status_code == 200
    assert "Lille (59350)" in body and "T3" in body and "17 %" in body and "Habitat Nord" in body
    assert "LMH-REF-42" not in body  # the landlord's own reference stays with the landlord
    assert "Accepter la proposition" in body and "Trop loin de l'école" in body
    r = client.post(f"/association/propositions/{case.proposal.public_id}/accepter")
    assert r.status_code == 303
    body = text(client.get(r.headers["Location"]))
    assert "le ménage accepte" in body
    assert "Le ménage accepte la proposition" in body  # the timeline
    db.expire_all()
    assert case.proposal.status == "household_accepted"
    # Answering again: a friendly message, not an error page.
    r = client.post(f"/association/propositions/{case.proposal.public_id}/accepter", follow_redirects=True)
    assert r.status_code == 200 and "déjà changé d&#39;état" in text(r)


def test_declining_without_a_reason_shows_the_error_on_the_field(client, login_as, case, db):
    login_as(case.au)
    r = client.post(f"/association/propositions/{case.proposal.public_id}/decliner",
                    data={"decliner-reason": ""})
    assert r.status_code == 422
    assert 'aria-invalid="true"' in text(r) and "Indiquez le motif du refus." in text(r)
    r = client.post(f"/association/propositions/{case.proposal.public_id}/decliner",
                    data={"decliner-reason": "too_expensive"})
    assert r.status_code == 303
    db.expire_all()
    assert case.proposal.status == "household_declined"
    assert case.household.status == "active"


def test_past_the_deadline_there_is_no_form(client, login_as, case, db):
    case.proposal.deadline = dt.date.today() - dt.timedelta(days=3)
    login_as(case.au)
    body = text(client.get(f"/association/propositions/{case.proposal.public_id}"))
    assert "Le délai de réponse est dépassé" in body and "Accepter la proposition" not in body
    r = client.post(f"/association/propositions/{case.proposal.public_id}/accepter", follow_redirects=True)
    assert "Le délai de réponse est dépassé" in text(r)
    db.expire_all()
    assert case.proposal.status == "pending"


def test_landlord_board_shows_no_profile_before_the_household_accepts(client, login_as, case):
    login_as(case.lu)
    body = text(client.get("/bailleur/propositions"))
    assert case.proposal.public_id in body and case.rival.public_id in body
    assert "Le ménage n'a pas encore répondu" in body
    assert "Solidarité Test" not in body and "Retenir ce ménage" not in body


def test_landlord_never_sees_what_identifies_or_locates_her(client, login_as, case, db):
    case.proposal.status = "household_accepted"
    from models import Decision

    db.add(Decision(proposal_id=case.proposal.id, step="household", outcome="accept",
                    decided_by_id=case.au.id))
    login_as(case.lu)
    for path in ("/bailleur/propositions", f"/bailleur/propositions/{case.proposal.public_id}"):
        body = text(client.get(path))
        assert "1\u00a0000–1\u00a0499\u00a0€/mois" in body and "Solidarité Test" in body
        assert "03 20 99 99 99" in body and "Retenir ce ménage" in body
        for secret in ("DOSSIER-SECRET-7", case.household.public_id, "rue Nationale", "59512",
                       "1380", "1 380", "14/05/2026", "2026-05-14", case.au.email):
            assert secret not in body, (path, secret)


def test_commission_then_lease_through_the_pages(client, login_as, auth, case, db):
    login_as(case.au)
    client.post(f"/association/propositions/{case.proposal.public_id}/accepter")
    auth.logout()
    login_as(case.lu)
    pid = case.proposal.public_id
    # A refusal needs a reason; the error shows on the detail page.
    r = client.post(f"/bailleur/propositions/{pid}/refuser", data={f"{pid}-refuse-reason": ""})
    assert r.status_code == 422 and "Indiquez le motif du refus." in text(r)
    r = client.post(f"/bailleur/propositions/{pid}/retenir", data={f"{pid}-accept-rank": "2"})
    assert r.status_code == 303
    body = text(client.get(r.headers["Location"]))
    assert "le ménage est retenu au rang 2, le bail lui est proposé" in body and "Le bail est signé" in body
    assert "rang donné par la commission : 2" in body
    # The history names organisations and roles, not the referent's e-mail.
    assert "Solidarité Test (association)" in body and case.au.email not in body
    db.expire_all()
    assert case.rival.status == "pending"  # still open until the lease is signed
    r = client.post(f"/bailleur/propositions/{pid}/retenir", data={f"{pid}-accept-rank": "1"},
                    follow_redirects=True)
    assert "déjà changé d&#39;état" in text(r)
    r = client.post(f"/bailleur/propositions/{pid}/bail", data=lease_form(pid))
    assert r.status_code == 303
    db.expire_all()
    assert case.proposal.status == "leased"
    assert (case.unit.status, case.household.status) == ("allocated", "housed")
    assert case.rival.status == "cancelled"


def lease_form(pid, kind="direct", signed=None, move_in=None):  # type: ignore[no-untyped-def]
    """The lease form of candidate `pid` as the landlord fills it (today by default)."""
    today = dt.date.today().isoformat()
    return {f"{pid}-lease-signed_on": signed or today, f"{pid}-lease-move_in_on": move_in or today,
            f"{pid}-lease-kind": kind}


def accepted(db, case, proposal):
    from models import Decision

    proposal.status = "household_accepted"
    db.add(Decision(proposal_id=proposal.id, step="household", outcome="accept"))
    db.flush()


def three_who_said_yes(db, case, login_as):  # type: ignore[no-untyped-def]
    """A third candidate for the case's unit; all three said yes; the landlord signed in.
    Returns the third proposal and the three public ids, in the matching's order."""
    third = factories.create_proposal(db, unit=case.unit, run=case.proposal.run, rank=3)
    for p in (case.proposal, case.rival, third):
        accepted(db, case, p)
    login_as(case.lu)
    return third, (case.proposal.public_id, case.rival.public_id, third.public_id)


def test_the_commission_ranks_candidates_and_the_lease_goes_down_the_order(client, login_as, case, db):
    third, (pid, rid, tid) = three_who_said_yes(db, case, login_as)
    page = text(client.get(f"/bailleur/propositions/{pid}"))
    assert '<option selected value="1">1</option>' in page  # the next rank, chosen for her
    assert client.post(f"/bailleur/propositions/{pid}/retenir", data={f"{pid}-accept-rank": "1"}).status_code == 303
    # Rank 1 is taken: only 2 and 3 are offered, 2 first.
    page = text(client.get(f"/bailleur/propositions/{tid}"))
    assert '<option selected value="2">2</option>' in page and 'value="1"' not in page
    assert client.post(f"/bailleur/propositions/{tid}/retenir", data={f"{tid}-accept-rank": "3"}).status_code == 303
    r = client.post(f"/bailleur/propositions/{rid}/retenir", data={f"{rid}-accept-rank": "3"})
    assert r.status_code == 409
    assert "Le rang 3 est déjà donné à la candidature" in text(r) and 'aria-invalid="true"' in text(r)
    r = client.post(f"/bailleur/propositions/{rid}/retenir", data={f"{rid}-accept-rank": "2"},
                    follow_redirects=True)
    assert "le ménage est retenu au rang 2. Le bail lui sera proposé si" in text(r)
    # The board lists the unit's candidates in the commission's order.
    board = text(client.get("/bailleur/propositions"))
    # Named by their readable references (e.g. "2026-0142"), not by their opaque ids.
    pref, rref, tref = (reference(p) for p in (case.proposal, case.rival, third))
    assert board.index(f"Candidature {pref}") < board.index(f"Candidature {rref}") < board.index(f"Candidature {tref}")
    assert f"Candidature {pid}" not in board
    detail = text(client.get(f"/bailleur/propositions/{tid}"))
    assert "ordre de la commission" in detail
    assert detail.index(pid) < detail.index(rid) < detail.index(f"<strong>Candidature {tref}</strong>")
    assert "Retenue au rang 3" in detail and "Le bail est signé" not in detail
    # Rank 1 does not sign: the lease goes to rank 2, and rank 2's association is told.
    r = client.post(f"/bailleur/propositions/{pid}/bail-annule",
                    data={f"{pid}-lease_failed-reason": "household_refused"})
    assert r.status_code == 303
    db.expire_all()
    assert (case.proposal.status, case.rival.status, third.status) == (
        "cancelled", "commission_accepted", "commission_ranked")
    assert "Le bail est signé" in text(client.get(f"/bailleur/propositions/{rid}"))
    assert db.scalar(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.organisation_id == case.rival.household.association_id,
        Notification.msgid.contains("le bail lui est"))) == 1
    assert client.post(f"/bailleur/propositions/{rid}/bail", data=lease_form(rid)).status_code == 303
    db.expire_all()
    assert (case.rival.status, third.status, case.unit.status) == ("leased", "cancelled", "allocated")


def test_a_candidate_waiting_her_turn_can_be_withdrawn_without_moving_the_lease(client, login_as, case, db):
    third, (pid, rid, tid) = three_who_said_yes(db, case, login_as)
    for proposal_id, rank in ((pid, "1"), (rid, "2"), (tid, "3")):
        client.post(f"/bailleur/propositions/{proposal_id}/retenir", data={f"{proposal_id}-accept-rank": rank})
    board = text(client.get("/bailleur/propositions"))
    assert f'aria-label="Ne plus retenir la candidature {reference(case.rival)}"' in board
    # A reason is needed, as for any refusal.
    r = client.post(f"/bailleur/propositions/{rid}/bail-annule", data={f"{rid}-lease_failed-reason": ""})
    assert r.status_code == 422
    r = client.post(f"/bailleur/propositions/{rid}/bail-annule",
                    data={f"{rid}-lease_failed-reason": "household_refused"}, follow_redirects=True)
    assert f"Il est proposé à la candidature {reference(case.proposal)}." in text(r)
    db.expire_all()
    # The one offered the lease keeps it; rank 3 still waits, after her.
    assert (case.proposal.status, case.rival.status, third.status) == (
        "commission_accepted", "cancelled", "commission_ranked")
    assert case.rival.household.status == "active"
    assert db.scalar(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.organisation_id == case.rival.household.association_id,
        Notification.msgid.contains("retenu au rang %(rank)d"))) == 1
    # Rank 1 does not sign: the lease goes to rank 3, the next one still retained.
    client.post(f"/bailleur/propositions/{pid}/bail-annule", data={f"{pid}-lease_failed-reason": "household_refused"})
    db.expire_all()
    assert third.status == "commission_accepted"


def test_landlord_cannot_decide_before_the_household(client, login_as, case, db):
    login_as(case.lu)
    pid = case.proposal.public_id
    r = client.post(f"/bailleur/propositions/{pid}/retenir", data={f"{pid}-accept-rank": "1"},
                    follow_redirects=True)
    assert "Le ménage n'a pas encore répondu" in text(r)
    db.expire_all()
    assert case.proposal.status == "pending"


@pytest.mark.parametrize(("role", "path"), [
    ("association", "/association/propositions/{id}"),
    ("landlord", "/bailleur/propositions/{id}"),
])
def test_other_organisations_get_404(client, login_as, case, role, path):
    login_as(role)
    assert client.get(path.format(id=case.proposal.public_id)).status_code == 404


def test_notifications_page_lists_and_marks_read(client, login_as, auth, case, db):
    login_as(case.au)
    client.post(f"/association/propositions/{case.proposal.public_id}/accepter")
    auth.logout()
    login_as(case.lu)
    body = text(client.get("/bailleur/notifications"))
    assert "1 notification non lue" in body and case.proposal.public_id in body
    assert f'href="/bailleur/propositions/{case.proposal.public_id}"' in body
    assert client.post("/bailleur/notifications/lues").status_code == 303
    after = text(client.get("/bailleur/notifications"))
    assert case.proposal.public_id in after and "Tout marquer comme lu" not in after
    db.expire_all()
    assert db.scalar(sa.select(Notification.read_at).where(
        Notification.organisation_id == case.landlord.id)) is not None


def test_the_lease_form_asks_for_dates_and_kind_and_the_referent_reads_them(client, login_as, case, db, auth):
    accepted(db, case, case.proposal)
    login_as(case.lu)
    pid = case.proposal.public_id
    assert client.post(f"/bailleur/propositions/{pid}/retenir", data={f"{pid}-accept-rank": "1"}).status_code == 303
    page = text(client.get(f"/bailleur/propositions/{pid}"))
    assert "Type de bail" in page and "Date d'entrée dans les lieux" in page
    # No kind, and a move-in before the signature: both said next to their fields, nothing recorded.
    today = dt.date.today()
    r = client.post(f"/bailleur/propositions/{pid}/bail", data=lease_form(pid, kind=""))
    assert r.status_code == 422 and "Indiquez le type de bail." in text(r)
    r = client.post(f"/bailleur/propositions/{pid}/bail",
                    data=lease_form(pid, move_in=(today - dt.timedelta(days=1)).isoformat()))
    assert r.status_code == 422 and "ne peut précéder la signature" in text(r) and 'aria-invalid="true"' in text(r)
    db.expire_all()
    assert case.proposal.status == "commission_accepted"
    move_in = today + dt.timedelta(days=10)
    r = client.post(f"/bailleur/propositions/{pid}/bail", data=lease_form(pid, kind="sliding",
                                                                          move_in=move_in.isoformat()))
    assert r.status_code == 303
    assert "Bail glissant" in text(client.get(f"/bailleur/propositions/{pid}"))
    auth.logout()
    login_as(case.au)
    body = text(client.get(f"/association/propositions/{pid}"))
    assert "Bail glissant (par une association)" in body and move_in.strftime("%d/%m/%Y") in body
