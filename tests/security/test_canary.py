"""Canary: a household's sensitive fields never reach a landlord, another association or the committee.

Distinctive strings and coordinates are put in every sensitive field of a household that is
really in play (active, proposed to a landlord's unit, accepted by her, notified). Then each
of those users crawls everything she can reach — every link of every page from her home,
every API list and detail she may call, downloads included — and the e-mail outbox and
notifications are read too. None of the canaries may appear anywhere. The crawl also asks
directly for the canary's own records (as someone who learnt their ids would), the
committee's exports unfiltered and filtered on the excluded département, and checks that it
really went through each role's notifications, API lists and CSV/XLSX/PDF exports.
The coordinator and the admin watch too: the coordinator sees the household's reference
(she reviews the proposals of her territory) but never her zones, preferred points or notes,
and her pages do not even select them; the admin sees nothing of a household.
"""

from __future__ import annotations

import io
import json
import re
from collections import deque
from datetime import date
from urllib.parse import urljoin, urlsplit

import pytest
import sqlalchemy as sa
from flask import url_for

from models import Decision, Lease, Referral, RehousingRequest
from services import followup, proposal_messages
from services.errors import ValidationError
from tests import factories
from tests.conftest import AuthActions
from tests.querycount import count_queries
from web import access

REFERENCE = "CANARY-REF-7f3a9c"
NOTES = "CANARY-NOTE-b81e44 elle vit chez sa soeur au 12 rue des Lilas"
POINT = {"lat": 48.123456, "lon": 2.654321, "radius_km": 8.0}
RARE_COMMUNE, RARE_COMMUNE_NAME = "48012", "Monts-Verts"
SCHOOL = {"lat": 50.612345, "lon": 3.071234, "label": "CANARY-SCHOOL"}
# Her current home (she rents from the landlord who reads her proposals): its commune.
HOME_COMMUNE, HOME_COMMUNE_NAME = "48166", "Cans et Cévennes"
CANARIES = ("CANARY", "48.123456", "2.654321", "48.12345", "2.65432", "48,12345", "2,65432",
            RARE_COMMUNE, RARE_COMMUNE_NAME, "50.612345", "3.071234", "rue des Lilas", HOME_COMMUNE,
            HOME_COMMUNE_NAME)
# What a coordinator may see of a household includes its reference, never its zones, points or notes.
COORDINATOR_CANARIES = tuple(c for c in CANARIES if c != "CANARY") + ("CANARY-NOTE", "CANARY-SCHOOL")
MAX_PAGES = 400
_TODAY = date.today()
QUARTER = f"{_TODAY.year}-Q{(_TODAY.month - 1) // 3 + 1}"
# Where links from home do not lead but a person could type: the committee's exports and
# figures without a filter, and filtered on the excluded département ("48") and commune.
SEEDS = {
    "committee": [
        *(f"/comite/rapport.{fmt}{query}" for fmt in ("csv", "xlsx", "ods", "pdf")
          for query in ("", "?departments=48", f"?quarter={QUARTER}&departments=48,59")),
        "/comite/?departments=48", "/comite/besoins?departments=48", "/comite/simulation?departments=48",
        f"/api/v1/stats?quarter={QUARTER}&departments=59", f"/api/v1/stats?quarter={QUARTER}&departments=48",
        f"/api/v1/stats?quarter={QUARTER}&departments=48,59",
    ],
    "coordinator": [f"/api/v1/stats?quarter={QUARTER}&departments={d}" for d in ("59", "48")],
}


@pytest.fixture
def world(db):  # type: ignore[no-untyped-def]
    """The canary household, in a proposal with a landlord's unit she accepted; and the watchers."""
    association = factories.create_organisation(db, "association", departments=["59"])
    landlord = factories.create_organisation(db, "landlord", departments=["59"])
    household = factories.create_household(
        db, association=association, reference=REFERENCE, notes=NOTES,
        exclusion_zones=[POINT, {"commune": RARE_COMMUNE}, {"department": "48"}],
        preferred_points=[SCHOOL], search_area={"communes": [], "departments": ["59"]},
        current_home={"landlord": landlord.code, "commune": HOME_COMMUNE, "unit": None},
    )
    other = factories.create_household(db, association=association, reference="CANARY-REF-second",
                                       notes="CANARY-NOTE-second", exclusion_zones=[POINT])
    unit = factories.create_unit(db, landlord=landlord)
    unit2 = factories.create_unit(db, landlord=landlord)
    proposal = factories.create_proposal(db, unit=unit, household=household)
    factories.create_proposal(db, unit=unit2, household=other, status="household_accepted")
    # A rehousing request for her: the landlords of the department read it (the allow-list).
    db.add(RehousingRequest(association_id=association.id, household_id=household.id, departments=["59"],
                            message="Deux enfants, rez-de-chaussée souhaité."))
    # A third one of hers was leased: the landlord reads its lease record (dates and kind).
    leased_household = factories.create_household(db, association=association, reference="CANARY-REF-third",
                                                  notes=NOTES, exclusion_zones=[POINT], preferred_points=[SCHOOL])
    leased = factories.create_proposal(db, unit=factories.create_unit(db, landlord=landlord),
                                       household=leased_household, status="leased", commission_rank=1)
    for step in ("household", "commission", "lease"):
        db.add(Decision(proposal_id=leased.id, step=step, outcome="accept"))
    db.add(Lease(proposal_id=leased.id, kind="sliding", signed_on=date.today(), move_in_on=date.today()))
    # She came to the association by the landlord's own referral (its staff spotted her): the
    # landlord reads the referral's status, never the file it became; her follow-up is scheduled.
    db.add(Referral(landlord_id=landlord.id, association_id=association.id, landlord_reference="BAIL-canary",
                    department="59", adults=1, children=2, consent_on=date.today(), status="accepted",
                    household_id=leased_household.id))
    db.flush()
    checkpoints = followup.schedule(db, leased)
    users = {
        "referent": factories.create_user(db, role="association", organisation=association),
        "landlord": factories.create_user(db, role="landlord", organisation=landlord),
        "other_association": factories.create_user(db, role="association"),
        "committee": factories.create_user(db, role="committee"),
        "coordinator": factories.create_user(db, role="coordinator"),
        "admin": factories.create_user(db, role="admin"),
    }
    # The referent and the landlord talk on both proposals; what would locate her is refused.
    for p in (proposal, leased):
        proposal_messages.post(db, users["referent"], p.public_id, "Elle peut visiter mardi.")
        proposal_messages.post(db, users["landlord"], p.public_id, "Mardi convient.")
        with pytest.raises(ValidationError):
            proposal_messages.post(db, users["referent"], p.public_id, NOTES)
    db.commit()
    referral = db.scalar(sa.select(Referral).where(Referral.household_id == leased_household.id))
    return {"proposal": proposal, "household": household, "other": other, "leased": leased, "users": users,
            "referral": referral, "checkpoint": checkpoints[0]}


def _text_of(response) -> str:  # type: ignore[no-untyped-def]
    """What a person could read in the answer, whatever its format."""
    kind = response.mimetype or ""
    data = response.get_data()
    if kind == "application/pdf":
        from pypdf import PdfReader

        return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
    if "spreadsheetml" in kind:
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(data), read_only=True)
        text = " ".join(str(c) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for c in row)
        book.close()
        return text
    return data.decode("utf-8", errors="replace")


def _links(html: str, base: str) -> list[str]:
    found = re.findall(r'(?:href|src|hx-get|data-spec-url)="([^"#]+)', html)
    paths = []
    for link in found:
        url = urlsplit(urljoin("http://localhost" + base, link.replace("&amp;", "&")))
        if url.scheme not in ("http", "https") or url.netloc != "localhost" or url.path.startswith("/static/"):
            continue
        paths.append(url.path + (f"?{url.query}" if url.query else ""))
    return paths


def _leaks(text: str, canaries: tuple[str, ...] = CANARIES) -> list[str]:
    return [c for c in canaries if c in text]


def _probes(app, role: str, ids: list[str]) -> list[str]:  # type: ignore[no-untyped-def]
    """Every page the role may GET that names one record, asked for each of these ids."""
    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            args = list(rule.arguments)
            if (rule.rule.startswith("/api/") or len(args) != 1 or "GET" not in (rule.methods or ())
                    or type(rule._converters[args[0]]).__name__ != "UnicodeConverter"
                    or not access.allowed(rule.endpoint, "GET", role)):
                continue
            urls += [url_for(rule.endpoint, **{args[0]: i}) for i in ids]
    return sorted(urls)


def _crawl(app, client, role: str, canaries: tuple[str, ...] = CANARIES,  # type: ignore[no-untyped-def]
           probe_ids: list[str] | None = None) -> tuple[dict[str, list[str]], dict[str, int]]:
    """Every page reachable by links from home, the role's seeds, the canary's records asked
    directly, and every API GET the role may call: (leaks by URL, status by URL visited)."""
    leaks: dict[str, list[str]] = {}
    seen: dict[str, int] = {}
    probe_ids = probe_ids or []
    queue = deque(["/", "/accueil", "/compte/mot-de-passe", "/compte/double-authentification", "/mentions",
                   *SEEDS.get(role, []), *_probes(app, role, probe_ids)])
    ids: set[str] = set(probe_ids)
    while queue and len(seen) < MAX_PAGES:
        path = queue.popleft()
        if path in seen or path.startswith("/deconnexion"):
            continue
        response = client.get(path)
        seen[path] = response.status_code
        if response.status_code in (301, 302, 303):
            # With its query: a page may send on to itself with what it computed (?calcul=).
            target = urlsplit(response.headers["Location"])
            queue.append(target.path + (f"?{target.query}" if target.query else ""))
            continue
        text = _text_of(response)
        response.close()
        if found := _leaks(text, canaries):
            leaks[path] = found
        ids.update(re.findall(r"\b[HPUR]-[A-Za-z0-9_-]{16}\b", text))
        if response.mimetype == "text/html":
            queue.extend(p for p in _links(text, path) if p not in seen)
    # The API: every list, then every detail with every id met so far (pages and lists).
    with app.test_request_context():
        rules = [(r.endpoint, r.rule, list(r.arguments)) for r in app.url_map.iter_rules()
                 if r.rule.startswith("/api/v1/") and "GET" in (r.methods or ())]
    api_ids = set(ids)
    for endpoint, _rule, args in sorted(rules, key=lambda r: len(r[2])):
        if not access.allowed(endpoint, "GET", role):
            continue
        candidates = [{}] if not args else [{args[0]: i} for i in sorted(api_ids)] if len(args) == 1 else []
        for values in candidates:
            with app.test_request_context():
                url = url_for(endpoint, **values)
            for page_url in (url, url + "?per_page=200"):
                if page_url in seen:
                    continue
                response = client.get(page_url)
                seen[page_url] = response.status_code
                text = response.get_data(as_text=True)
                if found := _leaks(text, canaries):
                    leaks[page_url] = found
                if response.is_json:
                    api_ids.update(re.findall(r"\b[HPUR]-[A-Za-z0-9_-]{16}\b", json.dumps(response.json)))
    return leaks, seen


def _login(app, db, user):  # type: ignore[no-untyped-def]
    client = app.test_client()
    assert AuthActions(client, db).login(user).status_code == 302
    return client


def _probe_ids(world) -> list[str]:  # type: ignore[no-untyped-def]
    return [world["household"].public_id, world["other"].public_id, world["proposal"].public_id,
            world["leased"].public_id, world["referral"].public_id, world["checkpoint"].public_id]


def test_the_canaries_are_visible_to_their_own_referent(app, db, world):
    """The crawl can see them where they belong: otherwise the test below proves nothing."""
    client = _login(app, db, world["users"]["referent"])
    found, visited = _crawl(app, client, "association", probe_ids=_probe_ids(world))
    household = f"/association/menages/{world['household'].public_id}"
    assert visited[household] == 200 and visited[household + "/export"] == 200
    everything = {c for cs in found.values() for c in cs}
    assert {"CANARY", "48.123456", "2.654321", "rue des Lilas"} <= everything, found
    # Her follow-up and the referral she came by are hers to read, with her file's reference.
    assert "CANARY" in found[f"/association/suivi/{world['checkpoint'].public_id}"]
    assert "CANARY" in found[f"/association/orientations/{world['referral'].public_id}"]
    # The download of everything stored about her is read too (the crawl reads every format).
    assert "rue des Lilas" in found[household + "/export"]


# What each watcher's crawl must have gone through with success (URL prefixes): her
# notifications, her API lists, her downloads; otherwise "nothing leaked" proves little.
COVERAGE = {
    "landlord": ("/bailleur/notifications", "/bailleur/propositions/P-", "/api/v1/proposals", "/api/v1/units",
                 "/api/v1/requests", "/bailleur/orientations/R-", "/api/v1/referrals",
                 "/api/v1/proposals/P-", "/bailleur/logements/modele.csv", "/bailleur/logements/modele.xlsx"),
    "other_association": ("/association/notifications", "/association/propositions", "/api/v1/households",
                          "/api/v1/proposals"),
    "committee": ("/comite/rapport.csv", "/comite/rapport.xlsx", "/comite/rapport.pdf", "/comite/besoins",
                  "/comite/besoins?departments=59,62&calcul=",
                  "/comite/graphiques/", "/api/v1/stats?"),
    "coordinator": ("/coordination/rapprochements/R-", "/api/v1/households", "/api/v1/units",
                    "/api/v1/match-runs/R-", "/api/v1/stats?"),
    "admin": ("/admin/journal", "/admin/comptes", "/api/v1/me"),
}
WATCHERS = {"landlord": CANARIES, "other_association": CANARIES, "committee": CANARIES,
            "coordinator": COORDINATOR_CANARIES, "admin": CANARIES}


# Whose pages never even load the encrypted columns: they stay ciphertext in the database
# while her pages are built (a template that printed one by mistake would have nothing to
# print). The committee's unmet-needs figures do read them, to count what blocks whom.
PROTECTED_COLUMNS = ("exclusion_zones", "preferred_points", "households.notes")
NEVER_LOADED_BY = {"landlord", "coordinator", "admin"}


@pytest.mark.parametrize("watcher", list(WATCHERS))
def test_no_canary_reaches_other_people(app, db, connection, world, watcher):
    users = world["users"]
    # The referent answers the proposal: the landlord is told (notification, e-mail outbox).
    referent = _login(app, db, users["referent"])
    r = referent.post(f"/association/propositions/{world['proposal'].public_id}/accepter")
    assert r.status_code in (302, 303), r.status_code
    client = _login(app, db, users[watcher])
    role = users[watcher].role
    with count_queries(connection) as queries:
        found, visited = _crawl(app, client, role, WATCHERS[watcher], probe_ids=_probe_ids(world))
    assert len(visited) > 5, visited
    if watcher in NEVER_LOADED_BY:
        loaded = [q for q in queries.statements if any(c in q for c in PROTECTED_COLUMNS)]
        assert not loaded, "\n".join(loaded)
    missed = [p for p in COVERAGE[watcher] if not any(v.startswith(p) and s == 200 for v, s in visited.items())]
    assert not missed, f"the {watcher}'s crawl never got these with success: {missed}\n{sorted(visited)}"
    if watcher == "landlord":
        # She really saw the household's allow-listed profile, through her proposals; and the
        # messages and the lease record, on the pages and through the API.
        assert any(world["proposal"].public_id in v for v in visited), visited
        for p in (world["proposal"], world["leased"]):
            for path in (f"/bailleur/propositions/{p.public_id}/messages",
                         f"/api/v1/proposals/{p.public_id}/messages", f"/bailleur/propositions/{p.public_id}"):
                assert visited.get(path) == 200, (path, sorted(visited))
    if watcher == "other_association":
        # The thread is the two organisations' only: asked for directly, it does not exist.
        asked = {v: s for v, s in visited.items() if v.endswith("/messages")}
        assert f"/association/propositions/{world['proposal'].public_id}/messages" in asked, visited
        assert set(asked.values()) == {404}, asked
    if watcher == "other_association":
        # She asked for the canary's pages and download by their ids, and got what a missing record gets.
        # (Her id typed as a password link's token is an invalid link: 410, the page says so.)
        asked = {v: s for v, s in visited.items() if world["household"].public_id in v
                 and not v.startswith(("/mot-de-passe-oublie/", "/invitation/"))}
        assert f"/association/menages/{world['household'].public_id}/export" in asked, visited
        assert set(asked.values()) == {404}, asked
    assert not found, f"canaries reached the {watcher}: {found}"


def test_no_canary_in_notifications_or_outbox(app, db, world):
    referent = _login(app, db, world["users"]["referent"])
    referent.post(f"/association/propositions/{world['proposal'].public_id}/accepter")
    tables = set(sa.inspect(db.get_bind()).get_table_names())
    rows = []
    for table in ("outbox_emails", "notifications"):
        if table in tables:
            rows += [" ".join(str(v) for v in row) for row in db.execute(sa.text(f"SELECT * FROM {table}"))]  # noqa: S608
    assert rows, "the landlord was not notified: the check would prove nothing"
    for row in rows:
        assert not _leaks(row), row
