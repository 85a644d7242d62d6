"""Urgent transfer (issue 18): a rehoused woman whose safety in her new home is lost (the
aggressor found her, threats, an incident) must move again, at once.

Her association reopens the file in one step, and everything that follows is the usual
matching, through every channel (run, candidacy, request, direct match), with:
    - the home she leaves added to her exclusion zones: its commune and, when the unit is
      placed, a circle of `TRANSFER_ZONE_RADIUS_KM` around it (the referent may widen them
      afterwards, as any zone); so no channel can offer her a unit near the place she flees;
    - that home recorded as her current home (services.households: never proposed to her);
    - the highest urgency (3, immediate danger);
    - the file active again (no longer closed, so not purged as a closed file);
    - the lease she leaves `transferred` (the proposal flow's `transfer`), its follow-up
      checkpoints still due closed as "left: transfer needed" (no reminder for a home she
      no longer lives in);
    - a `Transfer` row, counted by the committee, and the coordination of the department told.

Nothing of this is shown to a landlord but the old lease's status, which its landlord, whose
tenant she is, learns anyway; the zones stay encrypted and association-only.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from models import Checkpoint, Household, Proposal, Transfer, User, utcnow
from models.followup import TRANSFER_REASONS
from services import audit, notifications, proposal_flow, territory
from services import households as households_svc
from services.errors import Conflict, NotFound, ValidationError

# The circle around the home she leaves that no channel may propose in (km): the one of any
# current home (services.households). A commune zone is added too, so an unplaced unit of
# that commune is refused as well.
TRANSFER_ZONE_RADIUS_KM = households_svc.HOME_ZONE_RADIUS_KM
REASON_LABELS = {
    "safety_incident": _l("Incident de sécurité dans le logement"),
    "aggressor_found": _l("L'agresseur a retrouvé son adresse"),
    "threats": _l("Menaces ou harcèlement près du logement"),
    "other": _l("Autre danger"),
}
COORDINATION_LINK = "/coordination/"
NOT_REHOUSED = _l("Une mutation urgente ne se demande que pour un ménage relogé par la plateforme.")


def zones_around(unit: Any, radius_km: float = TRANSFER_ZONE_RADIUS_KM) -> list[dict[str, Any]]:
    """The exclusion zones that keep her away from this home: its commune, and a circle
    around it when it is placed."""
    return households_svc.home_zones(unit.commune, unit.lat, unit.lon, radius_km)


def current_lease(session: so.Session, household: Household) -> Proposal | None:
    """The lease she lives under now (the latest `leased` proposal), with its unit."""
    return session.scalar(
        sa.select(Proposal).where(Proposal.household_id == household.id, Proposal.status == "leased")
        .options(so.joinedload(Proposal.unit)).order_by(Proposal.updated_at.desc(), Proposal.id.desc()).limit(1))


def transfer(session: so.Session, user: User, household_id: str, *, reason: str,
             base_url: str = "") -> Transfer:
    """Reopen a rehoused household's file for an urgent transfer (see the module's docstring).

    :raise NotFound: not one of her association's households.
    :raise ValidationError: unknown reason.
    :raise Conflict: she is not rehoused through the platform (no current lease).
    """
    if user.role != "association" or user.organisation is None:
        raise NotFound(_l("Ménage introuvable : %(id)s.", id=household_id), field="household")
    household = households_svc.get_household(session, household_id, association=user.organisation)
    if reason not in TRANSFER_REASONS:
        raise ValidationError(_l("Choisissez le motif de la mutation."), field="reason")
    lease = current_lease(session, household)
    if lease is None or household.status != "housed":
        raise Conflict(NOT_REHOUSED, field="household")
    # Her unit's row then hers, as every transition; `move` below refuses a lease that changed.
    proposal_flow.lock_parties(session, lease.unit_id, household.id)
    session.refresh(household, ["status"])
    if household.status != "housed":
        raise Conflict(NOT_REHOUSED, field="household")
    unit = lease.unit
    proposal_flow.move(session, lease, "transfer", actor=user)
    zones = list(household.exclusion_zones or [])
    zones += [z for z in zones_around(unit) if z not in zones]
    household.exclusion_zones = zones
    household.current_home = {"landlord": unit.landlord.code, "commune": unit.commune, "unit": unit.public_id}
    household.urgency = 3
    household.status = "active"
    household.closed_at = None
    now = utcnow()
    for checkpoint in session.scalars(sa.select(Checkpoint).where(
            Checkpoint.proposal_id == lease.id, Checkpoint.status == "due")):
        checkpoint.status, checkpoint.outcome = "left", "transfer_needed"
        checkpoint.recorded_at, checkpoint.recorded_by_id = now, user.id
    item = Transfer(household_id=household.id, from_proposal_id=lease.id, association_id=household.association_id,
                    department=unit.department, reason=reason, created_by_id=user.id)
    session.add(item)
    session.flush()
    audit.record(session, "household.transfer", actor=user, object_type="household", object_id=household.public_id)
    for team in territory.teams_covering(session, [unit.department]):
        notifications.tell(session, team, _l("Mutation urgente : le dossier %(id)s est de nouveau actif, en "
                                             "urgence immédiate.", id=household.public_id),
                           COORDINATION_LINK, email="transfer", base_url=base_url)
    return item


def transfers_of(session: so.Session, household: Household) -> list[Transfer]:
    """Her urgent transfers, newest first (her page)."""
    return list(session.scalars(sa.select(Transfer).where(Transfer.household_id == household.id)
                                .order_by(Transfer.created_at.desc(), Transfer.id.desc())))
