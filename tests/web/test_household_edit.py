"""Editing a household as a referent does: the form comes back filled, saved unchanged it
passes; an error in the summary names its field (issue 21)."""

from __future__ import annotations

import html
import re

import pytest

from tests import factories
from tests.web.formdata import form_fields


def text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def referent(login_as):
    return login_as("association")


def summary(page: str) -> list[str]:
    section = re.search(r'<section class="error-summary".*?</section>', page, re.S)
    return [re.sub(r"<[^>]+>", "", li).strip() for li in re.findall(r"<li>(.*?)</li>", section[0], re.S)] \
        if section else []


def test_a_household_with_a_preferred_place_is_saved_again_unchanged(client, db, referent):
    household = factories.create_household(
        db, association=referent.organisation,
        preferred_points=[{"lat": 50.6301, "lon": 3.0702, "label": "école"}])  # not a commune's centre
    db.commit()
    url = f"/association/menages/{household.public_id}/modifier"
    page = text(client.get(url))
    data = form_fields(page)
    assert data["preferred_points-0-label"] == "école"
    checked = client.post(url, data={**data, "action": "verify"})
    assert checked.status_code == 200, summary(text(checked))
    assert "Champ obligatoire" not in text(checked)


def test_the_error_summary_names_each_field(client, db, referent):
    household = factories.create_household(db, association=referent.organisation)
    db.commit()
    url = f"/association/menages/{household.public_id}/modifier"
    data = form_fields(text(client.get(url)))
    data.update({"reference": "", "preferred_points-0-lat": "50,63", "preferred_points-0-lon": "3,07"})
    response = client.post(url, data={**data, "action": "verify"})
    assert response.status_code == 422
    messages = summary(text(response))
    assert "Référence du dossier : Champ obligatoire." in messages
    assert "Lieu n° 1 — Lieu : Champ obligatoire." in messages
    # Next to the input, the message alone: its label is just above it.
    assert re.search(r'id="reference-error" class="field-error">Champ obligatoire\.<', text(response))
