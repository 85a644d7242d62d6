"""Numbers in forms are written the reader's way and read either way (issue 21: "30.0" in French)."""

from __future__ import annotations

import sqlalchemy as sa

from models import MatchRun
from tests import factories
from tests.web.formdata import form_fields


def text(response):  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def test_the_territory_rules_read_and_take_a_french_decimal(client, login_as, db):
    login_as("coordinator")
    assert form_fields(text(client.get("/coordination/regles")))["max_effort_rate"] == "30"
    saved = client.post("/coordination/regles", data={"max_effort_rate": "27,5", "candidates_per_unit": "2",
                                                      "horizon_days": "60"})
    assert saved.status_code == 303
    assert form_fields(text(client.get("/coordination/regles")))["max_effort_rate"] == "27,5"
    assert form_fields(text(client.get("/coordination/regles?lang=en")))["max_effort_rate"] == "27.5"
    client.post("/coordination/rapprochements", data={"departments": "59", "idempotency_key": "k"})
    assert db.scalar(sa.select(MatchRun)).policy["max_effort_rate"] == 0.275


def test_a_run_started_with_a_french_rate(client, login_as, db):
    login_as("coordinator")
    client.post("/coordination/rapprochements", data={"departments": "59", "max_effort_rate": "32,5",
                                                      "idempotency_key": "k"})
    assert db.scalar(sa.select(MatchRun)).policy["max_effort_rate"] == 0.325


def test_a_word_is_refused_in_french_next_to_the_field(client, login_as):
    login_as("coordinator")
    page = text(client.post("/coordination/regles", data={"max_effort_rate": "trente", "candidates_per_unit": "2",
                                                         "horizon_days": "60"}))
    assert "Nombre attendu, par exemple 30 ou 30,5." in page


def test_the_household_form_shows_coordinates_with_a_comma(client, login_as, db):
    referent = login_as("association")
    household = factories.create_household(db, association=referent.organisation,
                                           exclusion_zones=[{"lat": 50.7236, "lon": 3.161, "radius_km": 2.5}],
                                           preferred_points=[{"lat": 50.6301, "lon": 3.0702, "label": "école"}])
    db.commit()
    fields = form_fields(text(client.get(f"/association/menages/{household.public_id}/modifier")))
    assert (fields["exclusion_points-0-lat"], fields["exclusion_points-0-distance_km"]) == ("50,7236", "2,5")
    assert (fields["preferred_points-0-lat"], fields["preferred_points-0-lon"]) == ("50,6301", "3,0702")
