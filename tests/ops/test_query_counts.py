"""The main lists send as many SQL statements for 50 rows as for 5: no query per row (N+1).

Each case logs a user of the audience in, shows the list with 5 rows, adds 45 more, and
shows it again: the page must show all the rows and the statement count must not move.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from werkzeug.exceptions import NotFound

from models import Organisation, User
from tests import factories
from tests.querycount import count_queries

FEW, MANY = 5, 50


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"PAGE_SIZE": 100}


@dataclass
class Case:
    role: str
    # (db, user) -> shared state (a run, say) given to every `add`.
    prepare: Callable[[Any, User], Any]
    # (db, user, state, i) -> the row's record.
    add: Callable[[Any, User, Any, int], Any]
    # state -> the URL of the list.
    url: Callable[[Any], str]
    # record -> a text the list must show for that row.
    text: Callable[[Any], str] = lambda record: str(record.reference)
    # Rows on the first page when the list pages them by a fixed number.
    shows: int | None = None
    # A known query per row, to be fixed by the list's owner (the test then fails: strict).
    known_n_plus_1: str | None = None


def _org(user: User) -> Organisation:
    assert user.organisation is not None
    return user.organisation


def _nothing(_db: Any, _user: User) -> None:
    return None


def _unit(db, user, _state, i):  # type: ignore[no-untyped-def]
    return factories.create_unit(db, landlord=_org(user), reference=f"LOG-QC-{i:03d}")


def _household(db, user, _state, i):  # type: ignore[no-untyped-def]
    return factories.create_household(db, association=_org(user), reference=f"DOS-QC-{i:03d}")


def _run(db, _user, _state, i):  # type: ignore[no-untyped-def]
    return factories.create_run(db, status="succeeded", released_at=None)


def _review_run(db, _user):  # type: ignore[no-untyped-def]
    return factories.create_run(db, status="succeeded", released_at=None,
                                stats={"units": 0, "households": 0, "matched": 0}, unmatched=[])


def _proposal_in_review(db, _user, run, i):  # type: ignore[no-untyped-def]
    # Every row from another association and landlord: their names are shown per row.
    unit = factories.create_unit(db, reference=f"LOG-QC-{i:03d}")
    return factories.create_proposal(db, unit=unit, household=factories.create_household(db), run=run,
                                     status="review")


def _proposal_to_association(db, user, run, i):  # type: ignore[no-untyped-def]
    household = factories.create_household(db, association=_org(user), reference=f"DOS-QC-{i:03d}")
    return factories.create_proposal(db, household=household, run=run)


def _proposal_to_landlord(db, user, run, i):  # type: ignore[no-untyped-def]
    unit = factories.create_unit(db, landlord=_org(user), reference=f"LOG-QC-{i:03d}")
    return factories.create_proposal(db, unit=unit, run=run)


def _released_run(db, _user):  # type: ignore[no-untyped-def]
    return factories.create_run(db)


def _public_id(record: Any) -> str:
    return str(record.public_id)


def _unit_reference(proposal: Any) -> str:
    return str(proposal.unit.reference)


def _unit_id(proposal: Any) -> str:
    return str(proposal.unit.public_id)


def _run_page(run: Any) -> str:
    return f"/coordination/rapprochements/{run.public_id}"


CASES = {
    "landlord units page": Case("landlord", _nothing, _unit, lambda _s: "/bailleur/logements?per_page=100"),
    "association households page": Case("association", _nothing, _household, lambda _s: "/association/"),
    "coordinator runs page": Case("coordinator", _nothing, _run, lambda _s: "/coordination/",
                                  text=lambda run: f"/coordination/rapprochements/{run.public_id}"),
    "coordinator run review page": Case("coordinator", _review_run, _proposal_in_review, _run_page,
                                        text=_unit_reference, shows=20),
    "association proposals page": Case("association", _released_run, _proposal_to_association,
                                       lambda _s: "/association/propositions", text=_public_id),
    "landlord proposals page": Case("landlord", _released_run, _proposal_to_landlord,
                                    lambda _s: "/bailleur/propositions?per_page=100", text=_unit_reference),
    "units API": Case("landlord", _nothing, _unit, lambda _s: "/api/v1/units?per_page=100"),
    "households API": Case("association", _nothing, _household, lambda _s: "/api/v1/households?per_page=100"),
    "run proposals API": Case("coordinator", _review_run, _proposal_in_review,
                              lambda run: f"/api/v1/match-runs/{run.public_id}/proposals?per_page=100",
                              text=_unit_id),
    "association proposals API": Case("association", _released_run, _proposal_to_association,
                                      lambda _s: "/api/v1/proposals?per_page=100", text=_public_id),
    "landlord proposals API": Case("landlord", _released_run, _proposal_to_landlord,
                                   lambda _s: "/api/v1/proposals?per_page=100", text=_public_id),
}


@pytest.mark.parametrize(("name", "case"), [
    pytest.param(name, case, id=name, marks=[pytest.mark.xfail(strict=True, reason=f"known N+1: {case.known_n_plus_1}")]
                 if case.known_n_plus_1 else [])
    for name, case in CASES.items()
])
def test_list_sends_the_same_queries_for_5_and_50_rows(name, case, app, client, db, engine, login_as):
    user = login_as(case.role)
    state = case.prepare(db, user)
    shown = [case.text(case.add(db, user, state, i)) for i in range(FEW)]
    db.commit()
    url = case.url(state)
    try:
        app.url_map.bind("localhost").match(url.split("?")[0])
    except NotFound:
        pytest.skip(f"{name}: no such route yet")
    assert client.get(url).status_code == 200  # warm-up: one-off work (translations, caches)

    counts = []
    for target in (FEW, MANY):
        shown += [case.text(case.add(db, user, state, i)) for i in range(len(shown), target)]
        db.commit()
        with count_queries(engine) as queries:
            response = client.get(url)
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        page = response.get_data(as_text=True)
        present = [text for text in shown if text in page]
        assert len(present) == min(len(shown), case.shows or len(shown)), f"{len(present)} rows shown"
        counts.append(queries)
    assert counts[1].count == counts[0].count, (
        f"{name}: {counts[0].count} statements for {FEW} rows, {counts[1].count} for {MANY}\n"
        f"--- {MANY} rows:\n{counts[1].report()}")
