"""Error pages speak the reader's language (issue 21: the 404 heading was werkzeug's English)."""

from __future__ import annotations

import re


def heading(response):  # type: ignore[no-untyped-def]
    return re.search(r"<h1>(.*?)</h1>", response.get_data(as_text=True), re.S).group(1)


def test_a_missing_page_is_named_in_french(client):
    response = client.get("/cette-page-n-existe-pas")
    assert response.status_code == 404
    assert heading(response) == "404 — Page introuvable"
    assert "Not Found" not in response.get_data(as_text=True)


def test_a_missing_page_is_named_in_english_for_an_english_reader(client):
    response = client.get("/cette-page-n-existe-pas?lang=en")
    assert heading(response) == "404 — Page not found"


def test_another_audience_s_page_reads_as_missing_in_french(client, login_as, db):
    from tests import factories

    login_as(factories.create_user(db, "landlord", organisation=factories.create_organisation(db, "landlord")))
    assert heading(client.get("/comite/")) == "404 — Page introuvable"


def test_the_api_keeps_the_http_status_name(client):
    body = client.get("/api/v1/nothing-here").json
    assert body["code"] == 404 and body["status"] == "Not Found"
