"""SQLAlchemy 2 typed models. Imports every model so that `Base.metadata` is complete.

This package never imports Flask: the CLI, the worker and scripts use it directly.
"""

from models.accounts import ROLES, ApiToken, Organisation, User
from models.audit import AuditEvent
from models.base import Base, utcnow
from models.committee import FollowUpAction, ReviewNote
from models.conventions import Commitment, Convention, QuarterSnapshot, TrainingRecord
from models.housing import Household, Unit
from models.notifications import Notification, OutboxEmail
from models.offers import RefusedOffer, RehousingRequest
from models.runs import Decision, MatchRun, Proposal

__all__ = [
    "ROLES",
    "ApiToken",
    "AuditEvent",
    "Base",
    "Commitment",
    "Convention",
    "Decision",
    "FollowUpAction",
    "Household",
    "MatchRun",
    "Notification",
    "Organisation",
    "OutboxEmail",
    "Proposal",
    "QuarterSnapshot",
    "RefusedOffer",
    "RehousingRequest",
    "ReviewNote",
    "TrainingRecord",
    "Unit",
    "User",
    "utcnow",
]
