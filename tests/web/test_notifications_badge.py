"""The unread-notifications badge in the navigation: its count, its link, its name, its cost."""

from __future__ import annotations

import html
import re

import pytest
from flask_babel import lazy_gettext as _l

from services import notifications
from tests import factories
from tests.querycount import count_queries

BADGE = re.compile(r'<a href="(?P<href>[^"]+)" class="notifications-badge[^"]*"\s+aria-label="(?P<label>[^"]+)">'
                   r'(?P<count>\d+)</a>')


def badge(response) -> dict[str, str] | None:  # type: ignore[no-untyped-def]
    """The badge as a user sees it (number) and hears it (name), with where it leads."""
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    found = BADGE.search(response.get_data(as_text=True))
    return {k: html.unescape(v) for k, v in found.groupdict().items()} if found else None


def notify(db, organisation, n=1):  # type: ignore[no-untyped-def]
    for _ in range(n):
        notifications.notify(db, message=_l("De nouvelles propositions vous attendent."), link="/",
                             organisation=organisation)
    db.commit()


@pytest.fixture
def referent(login_as, db):  # type: ignore[no-untyped-def]
    return login_as("association")


def test_badge_counts_unread_notifications_and_links_to_them(client, referent, db):
    notify(db, referent.organisation, 2)
    notify(db, factories.create_organisation(db, "association"))  # someone else's: not counted
    assert badge(client.get("/association/")) == {
        "href": "/association/notifications", "label": "2 notifications non lues", "count": "2"}
    # On every signed-in page, not only the home page.
    assert badge(client.get("/association/propositions"))["count"] == "2"


def test_badge_drops_to_zero_once_the_notifications_are_read(client, referent, db):
    notify(db, referent.organisation, 3)
    assert badge(client.get("/association/"))["count"] == "3"
    assert client.post("/association/notifications/lues").status_code == 303
    after = badge(client.get("/association/"))
    assert after == {"href": "/association/notifications", "label": "0 notifications non lues", "count": "0"}
    notify(db, referent.organisation)
    assert badge(client.get("/association/"))["label"] == "1 notification non lue"


def test_badge_name_is_translated(client, referent, db):
    notify(db, referent.organisation, 2)
    assert badge(client.get("/association/?lang=en"))["label"] == "2 unread notifications"


def test_landlords_have_the_badge_too(client, login_as, db):
    landlord = login_as("landlord")
    notify(db, landlord.organisation)
    assert badge(client.get("/bailleur/")) == {
        "href": "/bailleur/notifications", "label": "1 notification non lue", "count": "1"}


def _notification_queries(queries) -> list[str]:  # type: ignore[no-untyped-def]
    return [s for s in queries.statements if "notifications" in s.lower()]


def test_one_count_per_page(client, referent, db, engine):
    notify(db, referent.organisation)
    client.get("/association/")  # warm-up
    with count_queries(engine) as queries:
        assert badge(client.get("/association/"))["count"] == "1"
    counted = _notification_queries(queries)
    assert len(counted) == 1 and "count(" in counted[0].lower(), queries.report()


@pytest.mark.parametrize("role", [None, "coordinator"])
def test_no_badge_and_no_query_without_a_notifications_page(client, login_as, db, engine, role):
    # Anonymous visitors, and audiences that have no notifications page (coordination).
    url = "/connexion"
    if role:
        login_as(role)
        url = "/coordination/"
    client.get(url)
    with count_queries(engine) as queries:
        response = client.get(url)
    assert badge(response) is None and "notifications-badge" not in response.get_data(as_text=True)
    assert _notification_queries(queries) == [], queries.report()


def test_an_association_s_notifications_name_her_household_and_only_to_her(client, db, login_as, auth):
    """ "La commission a retenu le ménage (proposition P-…)": which one? Her association reads
    its own file reference beside it; the landlord's notification of the same proposal does not."""
    from services import proposals

    association = factories.create_organisation(db, "association")
    landlord_org = factories.create_organisation(db, "landlord")
    household = factories.create_household(db, association=association, reference="SFL-2026-0042")
    proposal = factories.create_proposal(db, household=household, status="household_accepted",
                                         unit=factories.create_unit(db, landlord=landlord_org))
    landlord = factories.create_user(db, "landlord", organisation=landlord_org)
    proposals.decide(db, landlord, proposal.public_id, decision="accept", rank=1)
    db.commit()
    login_as(factories.create_user(db, "association", organisation=association))
    page = html.unescape(client.get("/association/notifications").get_data(as_text=True))
    assert "La commission d'attribution a retenu le ménage" in page and "ménage SFL-2026-0042" in page
    auth.logout()
    login_as(landlord)
    assert "SFL-2026-0042" not in client.get("/bailleur/notifications").get_data(as_text=True)
