"""Canary: a household's sensitive fields never reach a landlord, another association or the committee.

Distinctive strings and coordinates are put in every sensitive field of a household that is
really in play (active, proposed to a landlord's unit, accepted by her, notified). Then each
of those users crawls everything she can reach — every link of every page from her home,
every API list and detail she may call, downloads included — and the e-mail outbox and
notifications are read too. None of the canaries may appear anywhere.
"""

from __future__ import annotations

import io
import json
import re
from collections import deque
from urllib.parse import urljoin, urlsplit

import pytest
import sqlalchemy as sa
from flask import url_for

from tests import factories
from tests.conftest import AuthActions
from web import access

REFERENCE = "CANARY-REF-7f3a9c"
NOTES = "CANARY-NOTE-b81e44 elle vit chez sa soeur au 12 rue des Lilas"
POINT = {"lat": 48.123456, "lon": 2.654321, "radius_km": 8.0}
RARE_COMMUNE, RARE_COMMUNE_NAME = "48012", "Monts-Verts"
SCHOOL = {"lat": 50.612345, "lon": 3.071234, "label": "CANARY-SCHOOL"}
CANARIES = ("CANARY", "48.123456", "2.654321", "48.12345", "2.65432", "48,12345", "2,65432",
            RARE_COMMUNE, RARE_COMMUNE_NAME, "50.612345", "3.071234", "rue des Lilas")
MAX_PAGES = 400


@pytest.fixture
def world(db):  # type: ignore[no-untyped-def]
    """The canary household, in a proposal with a landlord's unit she accepted; and the watchers."""
    association = factories.create_organisation(db, "association", departments=["59"])
    landlord = factories.create_organisation(db, "landlord", departments=["59"])
    household = factories.create_household(
        db, association=association, reference=REFERENCE, notes=NOTES,
        exclusion_zones=[POINT, {"commune": RARE_COMMUNE}, {"department": "48"}],
        preferred_points=[SCHOOL], search_area={"communes": [], "departments": ["59"]},
    )
    other = factories.create_household(db, association=association, reference="CANARY-REF-second",
                                       notes="CANARY-NOTE-second", exclusion_zones=[POINT])
    unit = factories.create_unit(db, landlord=landlord)
    unit2 = factories.create_unit(db, landlord=landlord)
    proposal = factories.create_proposal(db, unit=unit, household=household)
    factories.create_proposal(db, unit=unit2, household=other, status="household_accepted")
    users = {
        "referent": factories.create_user(db, role="association", organisation=association),
        "landlord": factories.create_user(db, role="landlord", organisation=landlord),
        "other_association": factories.create_user(db, role="association"),
        "committee": factories.create_user(db, role="committee"),
    }
    db.commit()
    return {"proposal": proposal, "household": household, "users": users}


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


def _leaks(text: str) -> list[str]:
    return [c for c in CANARIES if c in text]


def _crawl(app, client, role: str) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """Every page reachable by links from home, and every API GET the role may call; leaks by URL."""
    leaks: dict[str, list[str]] = {}
    seen: set[str] = set()
    queue = deque(["/", "/accueil", "/compte/mot-de-passe", "/compte/double-authentification", "/mentions"])
    ids: set[str] = set()
    while queue and len(seen) < MAX_PAGES:
        path = queue.popleft()
        if path in seen or path.startswith("/deconnexion"):
            continue
        seen.add(path)
        response = client.get(path)
        if response.status_code in (301, 302, 303):
            queue.append(urlsplit(response.headers["Location"]).path)
            continue
        text = _text_of(response)
        response.close()
        if found := _leaks(text):
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
                seen.add(page_url)
                response = client.get(page_url)
                text = response.get_data(as_text=True)
                if found := _leaks(text):
                    leaks[page_url] = found
                if response.is_json:
                    api_ids.update(re.findall(r"\b[HPUR]-[A-Za-z0-9_-]{16}\b", json.dumps(response.json)))
    leaks["_visited"] = sorted(seen)
    return leaks


def _login(app, db, user):  # type: ignore[no-untyped-def]
    client = app.test_client()
    assert AuthActions(client, db).login(user).status_code == 302
    return client


def test_the_canaries_are_visible_to_their_own_referent(app, db, world):
    """The crawl can see them where they belong: otherwise the test below proves nothing."""
    client = _login(app, db, world["users"]["referent"])
    found = _crawl(app, client, "association")
    visited = found.pop("_visited")
    assert any(f"/association/menages/{world['household'].public_id}" in v for v in visited)
    everything = {c for cs in found.values() for c in cs}
    assert {"CANARY", "48.123456", "2.654321"} <= everything, found


@pytest.mark.parametrize("watcher", ["landlord", "other_association", "committee"])
def test_no_canary_reaches_other_people(app, db, world, watcher):
    users = world["users"]
    # The referent answers the proposal: the landlord is told (notification, e-mail outbox).
    referent = _login(app, db, users["referent"])
    r = referent.post(f"/association/propositions/{world['proposal'].public_id}/accepter")
    assert r.status_code in (302, 303), r.status_code
    client = _login(app, db, users[watcher])
    role = users[watcher].role
    found = _crawl(app, client, role)
    visited = found.pop("_visited")
    assert len(visited) > 5, visited
    if watcher == "landlord":
        # She really saw the household's allow-listed profile, through her proposals.
        assert any(world["proposal"].public_id in v for v in visited), visited
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
