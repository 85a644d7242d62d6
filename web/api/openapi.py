"""The OpenAPI document's conventions, applied to every operation in one place.

- Each operation has an `operationId`, so client generators give methods stable names. The
  readable names are in OPERATION_IDS; an operation missing from it still gets a unique one
  derived from its endpoint (a new route is never left without).
- The errors every operation can answer are documented with the shared error schema: 401
  (no valid token or session), 404 (absent, not yours, or not for your role: the API never
  says which, see web/api/auth.py), 409 (the record's state forbids it) on writes, 422 (a
  field is wrong, each named) where a body or query is read, 429 (rate limited) on writes.
"""

from __future__ import annotations

import re
from typing import Any

from apispec import APISpec, BasePlugin

# (endpoint, method) -> operationId.
OPERATION_IDS: dict[tuple[str, str], str] = {
    ("me.Me", "get"): "getMe",
    ("units.Units", "get"): "listUnits",
    ("units.Units", "post"): "createUnit",
    ("units.UnitById", "get"): "getUnit",
    ("units.UnitById", "patch"): "updateUnit",
    ("units.publish", "post"): "publishUnit",
    ("units.publish_many", "post"): "publishUnits",
    ("units.withdraw", "post"): "withdrawUnit",
    ("units.import_units", "post"): "importUnits",
    ("units.update_units_from_file", "post"): "updateUnitsFromFile",
    ("match_runs.MatchRuns", "post"): "startMatchRun",
    ("match_runs.MatchRunItem", "get"): "getMatchRun",
    ("match_runs.MatchRunProposals", "get"): "listMatchRunProposals",
    ("match_runs.DropProposal", "post"): "dropMatchRunProposal",
    ("match_runs.RestartRun", "post"): "restartMatchRun",
    ("match_runs.ReleaseRun", "post"): "releaseMatchRun",
    ("households.Households", "get"): "listHouseholds",
    ("households.Households", "post"): "createHousehold",
    ("households.HouseholdItem", "get"): "getHousehold",
    ("households.HouseholdItem", "patch"): "updateHousehold",
    ("households.HouseholdItem", "delete"): "eraseHousehold",
    ("households.Activation", "post"): "activateHousehold",
    ("households.Withdrawal", "post"): "withdrawHousehold",
    ("households.Transfer", "post"): "transferHousehold",
    ("proposals.Proposals", "get"): "listProposals",
    ("proposals.ProposalById", "get"): "getProposal",
    ("proposals.decision", "post"): "decideProposal",
    ("proposals.lease", "post"): "recordLease",
    ("proposals.ProposalMessages", "get"): "listProposalMessages",
    ("proposals.ProposalMessages", "post"): "postProposalMessage",
    ("stats.Stats", "get"): "getStats",
    ("offers.offers", "get"): "listOffers",
    ("offers.photo", "get"): "getPhoto",
    ("offers.candidacies", "post"): "createCandidacy",
    ("offers.Requests", "get"): "listRehousingRequests",
    ("offers.Requests", "post"): "createRehousingRequest",
    ("offers.request_offers", "post"): "offerUnitOnRequest",
    ("offers.direct", "post"): "createDirectMatch",
    ("followup.Referrals", "get"): "listReferrals",
    ("followup.Referrals", "post"): "createReferral",
    ("followup.ReferralItem", "get"): "getReferral",
    ("followup.accept", "post"): "acceptReferral",
    ("followup.decline", "post"): "declineReferral",
    ("followup.checkpoints", "get"): "listCheckpoints",
    ("followup.record_checkpoint", "post"): "recordCheckpoint",
}

# Status -> the response flask-smorest registers under the status's name (lazily: a
# reference through spec.get_ref is what puts it in the document), with the error schema.
ERRORS = {"401": "UNAUTHORIZED", "404": "NOT_FOUND", "409": "CONFLICT",
          "422": "UNPROCESSABLE_ENTITY", "429": "TOO_MANY_REQUESTS"}
WRITES = {"post", "put", "patch", "delete"}


def derived_operation_id(endpoint: str, method: str) -> str:
    """`offers.request_offers` + post -> `postOffersRequestOffers`: unique, if not pretty."""
    words = re.split(r"[._]", endpoint)
    return method + "".join(w[:1].upper() + w[1:] for w in words if w)


class OperationConventions(BasePlugin):
    def init_spec(self, spec: APISpec) -> None:
        super().init_spec(spec)
        self.spec = spec

    def operation_helper(self, path: str | None = None, operations: dict[str, Any] | None = None,
                         **kwargs: Any) -> None:
        rule = kwargs.get("rule")
        if rule is None or operations is None:
            return
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            operation.setdefault("operationId",
                                 OPERATION_IDS.get((rule.endpoint, method))
                                 or derived_operation_id(rule.endpoint, method))
            if rule.endpoint.startswith("api-docs."):
                continue  # the document itself is public
            codes = ["401", "404"]
            reads_input = method in WRITES or bool(operation.get("parameters"))
            if reads_input:
                codes.append("422")
            if method in WRITES:
                codes += ["409", "429"]
            responses = operation.setdefault("responses", {})
            for code in codes:
                if code not in responses:
                    responses[code] = self.spec.components.get_ref("response", ERRORS[code])
