"""The lease record: its terms are checked, stored with the signature, and the database
refuses a move-in before the signature whatever the code does."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from models import Decision, Lease
from services import leases
from services import proposals as svc
from services.errors import ValidationError
from tests import factories

TODAY = dt.date(2026, 12, 4)


def terms(signed=TODAY, move_in=TODAY, kind="direct"):  # type: ignore[no-untyped-def]
    return leases.LeaseTerms(signed_on=signed, move_in_on=move_in, kind=kind)


@pytest.mark.parametrize(("given", "field"), [
    (terms(move_in=TODAY - dt.timedelta(days=1)), "move_in_on"),
    (terms(signed=TODAY + dt.timedelta(days=leases.SIGNED_AHEAD_DAYS + 1),
           move_in=TODAY + dt.timedelta(days=60)), "signed_on"),
    (terms(signed=TODAY - dt.timedelta(days=400), move_in=TODAY - dt.timedelta(days=400)), "signed_on"),
    (terms(move_in=TODAY + dt.timedelta(days=leases.MOVE_IN_AFTER_DAYS + 1)), "move_in_on"),
    (terms(kind="verbal"), "kind"),
])
def test_terms_out_of_bounds_are_refused_naming_the_field(given, field):
    with pytest.raises(ValidationError) as exc:
        leases.check(given, today=TODAY)
    assert list(exc.value.errors) == [field]


def test_terms_within_bounds_pass():
    ok = terms(signed=TODAY - dt.timedelta(days=3), move_in=TODAY + dt.timedelta(days=10), kind="sliding")
    assert leases.check(ok, today=TODAY) == ok


def _retained(db):  # type: ignore[no-untyped-def]
    proposal = factories.create_proposal(db, status="commission_accepted", commission_rank=1)
    for step in ("household", "commission"):
        db.add(Decision(proposal_id=proposal.id, step=step, outcome="accept"))
    db.flush()
    user = factories.create_user(db, "landlord", organisation=proposal.unit.landlord)
    return proposal, user


def test_the_lease_is_recorded_with_the_signature(db):
    proposal, user = _retained(db)
    today = dt.date.today()
    svc.decide(db, user, proposal.public_id, decision="accept", step="lease",
               lease=terms(signed=today, move_in=today + dt.timedelta(days=7), kind="sublet"))
    db.commit()
    lease = leases.of(db, proposal)
    assert proposal.status == "leased"
    assert lease is not None and (lease.kind, lease.move_in_on - lease.signed_on) == ("sublet", dt.timedelta(days=7))
    assert lease.recorded_by_id == user.id


def test_refused_terms_leave_the_proposal_as_it_was(db):
    proposal, user = _retained(db)
    db.commit()
    with pytest.raises(ValidationError):
        svc.decide(db, user, proposal.public_id, decision="accept", step="lease",
                   lease=terms(signed=dt.date.today(), move_in=dt.date.today() - dt.timedelta(days=1)))
    db.rollback()
    db.refresh(proposal)
    assert proposal.status == "commission_accepted"
    assert db.scalar(sa.select(sa.func.count()).select_from(Lease)) == 0


def test_terms_go_only_with_a_signature(db):
    proposal, user = _retained(db)
    with pytest.raises(ValidationError):
        svc.decide(db, user, proposal.public_id, decision="decline", reason="other", step="lease",
                   lease=terms(signed=dt.date.today(), move_in=dt.date.today()))


@pytest.mark.parametrize("row", [
    {"kind": "verbal", "signed_on": TODAY, "move_in_on": TODAY},
    {"kind": "direct", "signed_on": TODAY, "move_in_on": TODAY - dt.timedelta(days=1)},
])
def test_the_database_refuses_what_the_service_would(db, row):
    proposal, _ = _retained(db)
    db.add(Lease(proposal_id=proposal.id, **row))
    with pytest.raises(sa.exc.IntegrityError):
        db.flush()
