"""The home page of each role starts with what awaits her, by deadline, each item linking to
where it is done (issue 21); stalled steps flagged (issue 15)."""

from __future__ import annotations

import datetime as dt

from models import Decision
from services import clock
from services.worklists import reference
from tests import factories


def text(response):
    return response.get_data(as_text=True)


def said_yes(db, proposal, days_ago=0, status="household_accepted"):
    proposal.status = status
    db.add(Decision(proposal_id=proposal.id, step="household", outcome="accept",
                    decided_at=clock.utcnow() - dt.timedelta(days=days_ago)))
    db.flush()


def test_referent_home_lists_proposals_to_answer_by_deadline_and_drafts(client, login_as, db):
    association = factories.create_organisation(db, "association")
    user = factories.create_user(db, "association", organisation=association)
    later = factories.create_proposal(db, household=factories.create_household(db, association=association),
                                      deadline=dt.date.today() + dt.timedelta(days=8))
    sooner = factories.create_proposal(db, household=factories.create_household(db, association=association),
                                       deadline=dt.date.today() + dt.timedelta(days=2))
    draft = factories.create_household(db, association=association, status="draft", reference="BROUILLON-1")
    elsewhere = factories.create_proposal(db)  # another association's
    login_as(user)
    page = text(client.get("/association/"))
    todo = page[page.index("À faire"):page.index("Ménages accompagnés</h2>")]
    assert todo.index(f"Répondre à la proposition {reference(sooner)}") < todo.index(reference(later))
    assert f'href="/association/propositions/{sooner.public_id}"' in todo
    assert f'href="/association/menages/{draft.public_id}"' in todo and "Compléter le dossier BROUILLON-1" in todo
    assert reference(elsewhere) not in todo


def test_landlord_home_lists_what_awaits_her_commission_and_leases(client, login_as, db):
    landlord = factories.create_organisation(db, "landlord")
    user = factories.create_user(db, "landlord", organisation=landlord)
    late = factories.create_proposal(db, unit=factories.create_unit(db, landlord=landlord, reference="U-LATE"))
    said_yes(db, late, days_ago=35)
    recent = factories.create_proposal(db, unit=factories.create_unit(db, landlord=landlord, reference="U-NEW"))
    said_yes(db, recent, days_ago=1)
    pending = factories.create_proposal(db, unit=factories.create_unit(db, landlord=landlord, reference="U-WAIT"))
    login_as(user)
    page = text(client.get("/bailleur/"))
    todo = page[page.index("À faire"):page.index("Vos logements</h2>")]
    assert todo.index(f"Candidature {reference(late)}") < todo.index(f"Candidature {reference(recent)}")
    assert todo.count("En retard") == 1 and "U-WAIT" not in todo and reference(pending) not in todo
    assert f'href="/bailleur/propositions/{late.public_id}"' in todo
    assert 'href="/bailleur/propositions?vue=commission"' in todo


def test_coordinator_home_lists_runs_to_review_and_stalled_steps_of_her_territory(client, login_as, db):
    coordination = factories.create_organisation(db, "coordinator", departments=["59"])
    user = factories.create_user(db, "coordinator", organisation=coordination)
    run = factories.create_run(db, status="succeeded", departments=["59"])
    landlord = factories.create_organisation(db, "landlord", name="Bailleur Lent")
    stuck = factories.create_proposal(db, unit=factories.create_unit(db, landlord=landlord), run=run)
    said_yes(db, stuck, days_ago=45)
    fine = factories.create_proposal(db, unit=factories.create_unit(db, landlord=landlord), run=run, rank=2)
    said_yes(db, fine, days_ago=3)
    away_run = factories.create_run(db, status="succeeded", departments=["75"])
    away = factories.create_proposal(db, unit=factories.create_unit(db, department="75", commune="75056"),
                                     run=away_run)
    said_yes(db, away, days_ago=45)
    login_as(user)
    page = text(client.get("/coordination/"))
    todo = page[page.index("À faire"):page.index("Rapprochements</h2>")]
    assert f'href="/coordination/rapprochements/{run.public_id}"' in todo
    assert f"/coordination/rapprochements/{away_run.public_id}" not in todo
    assert f"Proposition {reference(stuck)}" in todo and "Bailleur Lent" in todo and "En retard" in todo
    assert reference(fine) not in todo and reference(away) not in todo
