"""Messages on a proposal: the two organisations only, checked like a request's message,
audited, the other side told."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from models import AuditEvent, Notification, ProposalMessage
from services import proposal_messages as svc
from services.errors import NotFound, ValidationError
from tests import factories


@pytest.fixture
def sides(db):  # type: ignore[no-untyped-def]
    proposal = factories.create_proposal(db)
    referent = factories.create_user(db, "association", organisation=proposal.household.association)
    staff = factories.create_user(db, "landlord", organisation=proposal.unit.landlord)
    db.commit()
    return proposal, referent, staff


def test_each_side_writes_and_reads_the_thread_and_the_other_is_told(db, sides):
    proposal, referent, staff = sides
    svc.post(db, referent, proposal.public_id, "  Elle peut visiter mardi matin.  ")
    svc.post(db, staff, proposal.public_id, "Mardi 10 h, au bureau de l'agence.")
    db.commit()
    _, seen = svc.thread(db, referent, proposal.public_id)
    assert [(m.side, m.mine, m.body) for m in seen] == [
        ("association", True, "Elle peut visiter mardi matin."),
        ("landlord", False, "Mardi 10 h, au bureau de l'agence.")]
    _, theirs = svc.thread(db, staff, proposal.public_id)
    assert [m.mine for m in theirs] == [False, True]
    told = db.scalars(sa.select(Notification.organisation_id).where(
        Notification.msgid.contains("Nouveau message"))).all()
    assert sorted(told) == sorted([proposal.unit.landlord_id, proposal.household.association_id])
    assert db.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "proposal.message", AuditEvent.object_id == proposal.public_id)) == 2


def test_the_text_is_encrypted_at_rest(db, sides):
    proposal, referent, _ = sides
    svc.post(db, referent, proposal.public_id, "Elle a deux enfants scolarisés.")
    db.commit()
    stored = db.execute(sa.text("SELECT body FROM proposal_messages")).scalar_one()
    assert "enfants" not in stored


@pytest.mark.parametrize("body", ["Elle habite 12 rue des Lilas", "Appelez-la au 06 12 34 56 78",
                                  "Elle vit vers 59000 en ce moment", "   ", "x" * (svc.BODY_MAX + 1)])
def test_what_could_locate_or_reach_her_is_refused_and_never_stored(db, sides, body):
    proposal, referent, _ = sides
    with pytest.raises(ValidationError) as exc:
        svc.post(db, referent, proposal.public_id, body)
    assert list(exc.value.errors) == ["body"]
    assert db.scalar(sa.select(sa.func.count()).select_from(ProposalMessage)) == 0


@pytest.mark.parametrize("role", ["landlord", "association", "coordinator", "committee", "admin"])
def test_nobody_else_reads_or_writes(db, sides, role):
    proposal, referent, _ = sides
    svc.post(db, referent, proposal.public_id, "Bonjour.")
    outsider = factories.create_user(db, role)
    with pytest.raises(NotFound):
        svc.thread(db, outsider, proposal.public_id)
    with pytest.raises(NotFound):
        svc.post(db, outsider, proposal.public_id, "Bonjour.")
