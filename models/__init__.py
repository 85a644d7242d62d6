"""SQLAlchemy 2 typed models. Imports every model so that `Base.metadata` is complete.

This package never imports Flask: the CLI, the worker and scripts use it directly.
"""

from models.accounts import ROLES, ApiToken, Organisation, User
from models.audit import AuditEvent
from models.base import Base, utcnow
from models.ceilings import IncomeCeiling
from models.committee import FollowUpAction, ReviewNote, SnapshotSolve
from models.conventions import Commitment, Convention, QuarterSnapshot, TrainingRecord
from models.followup import Checkpoint, Referral, Transfer
from models.housing import Household, Unit
from models.leases import Lease, ProposalMessage
from models.notifications import Notification, OutboxEmail
from models.offers import RefusedOffer, RehousingRequest
from models.photos import UnitPhoto
from models.runs import Decision, MatchRun, Proposal
from models.shelter import Placement

__all__ = [
    "ROLES",
    "ApiToken",
    "AuditEvent",
    "Checkpoint",
    "Base",
    "Commitment",
    "Convention",
    "Decision",
    "FollowUpAction",
    "Household",
    "IncomeCeiling",
    "Lease",
    "MatchRun",
    "Notification",
    "Organisation",
    "Placement",
    "OutboxEmail",
    "Proposal",
    "ProposalMessage",
    "QuarterSnapshot",
    "Referral",
    "RefusedOffer",
    "RehousingRequest",
    "ReviewNote",
    "SnapshotSolve",
    "TrainingRecord",
    "Transfer",
    "Unit",
    "UnitPhoto",
    "User",
    "utcnow",
]
