"""Releasing a run tells each landlord and association concerned, and says nothing else."""

from __future__ import annotations

import sqlalchemy as sa

from models import Notification, OutboxEmail
from services import runs
from tests import factories


def test_release_notifies_both_sides_without_places(db):
    coordinator = factories.create_user(db, role="coordinator")
    landlord, other_landlord = (factories.create_organisation(db, "landlord") for _ in range(2))
    association = factories.create_organisation(db, "association")
    factories.create_user(db, role="landlord", organisation=landlord)
    factories.create_user(db, role="association", organisation=association)
    unit = factories.create_unit(db, landlord=landlord)
    household = factories.create_household(db, association=association)
    run = factories.create_run(db, status="succeeded", released_at=None)
    factories.create_proposal(db, unit=unit, household=household, run=run, status="review")

    counts = runs.release_run(db, run, actor=coordinator, reply_days=10)

    assert counts["released"] == 1
    told = {n.organisation_id for n in db.scalars(sa.select(Notification))}
    assert told == {landlord.id, association.id}  # not the landlord with nothing proposed
    assert other_landlord.id not in told
    for mail in db.scalars(sa.select(OutboxEmail)):
        text = f"{mail.subject} {mail.body}"
        assert "59350" not in text and "Lille" not in text and household.reference not in text
