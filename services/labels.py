"""The words for the codes (statuses, reasons, origins): one place for pages, exports and stats.

Pages use the Jinja filter `label` (`{{ proposal.status|label("proposal_status") }}`),
services and exports `labels.label(kind, code)`. A code without words is shown as itself.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

PROPOSAL_STATUS = {
    "review": _l("En revue"),
    "dropped": _l("Écartée"),
    "pending": _l("En attente de la réponse du ménage"),
    "household_accepted": _l("Acceptée par le ménage, en attente de la commission"),
    "household_declined": _l("Déclinée par le ménage"),
    "expired": _l("Expirée sans réponse"),
    "commission_ranked": _l("Retenue par la commission, en attente de son tour"),
    "commission_accepted": _l("Retenue par la commission, bail à signer"),
    "commission_refused": _l("Refusée par la commission"),
    "leased": _l("Bail signé"),
    "transferred": _l("Logement quitté : mutation urgente"),
    "cancelled": _l("Annulée"),
}
HOUSEHOLD_DECLINE = {
    "too_far_from_school": _l("Trop loin de l'école"),
    "unsafe_area": _l("Quartier ou secteur dangereux pour elle"),
    "too_expensive": _l("Trop cher"),
    "too_small": _l("Trop petit"),
    "household_unreachable": _l("Ménage injoignable"),
    "household_found_housing": _l("Le ménage a trouvé un logement"),
    "other": _l("Autre motif"),
}
COMMISSION_REFUSAL = {
    "income_ceiling": _l("Plafond de ressources dépassé"),
    "incomplete_file": _l("Dossier incomplet"),
    "household_refused": _l("Le ménage a renoncé"),
    "unit_unavailable": _l("Logement plus disponible"),
    "other": _l("Autre motif"),
}
# How a unit reached her (models.runs.PROPOSAL_ORIGINS): the same words on every page, in the
# exports and in the committee's figures.
PROPOSAL_ORIGIN = {
    "run": _l("Rapprochement de la coordination"),
    "candidacy": _l("Candidature d'une association"),
    "request": _l("Demande de relogement (offre d'un bailleur)"),
    "direct": _l("Proposition directe de la coordination"),
}

KINDS: dict[str, dict[str, Any]] = {
    "proposal_status": PROPOSAL_STATUS,
    "household_decline": HOUSEHOLD_DECLINE,
    "commission_refusal": COMMISSION_REFUSAL,
    "proposal_origin": PROPOSAL_ORIGIN,
}


def label(code: str | None, kind: str) -> Any:
    """The words for a code of this kind (lazy: translated when shown); the code itself if unknown."""
    if code is None:
        return None
    return KINDS[kind].get(code, code)


def reason(step: str, code: str | None) -> Any:
    """The words for a decision's reason: the household's (`household`) or the commission's."""
    return label(code, "household_decline" if step == "household" else "commission_refusal")
