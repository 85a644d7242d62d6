"""The association's household pages: list, form with its check step, consent, withdrawal, erasure."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

import pytest
import sqlalchemy as sa

from models import AuditEvent, Household
from tests import factories

NEW = "/association/menages/nouveau"
TODAY = dt.date.today()


def form_data(**overrides: Any) -> dict[str, Any]:
    """What a referent types: names of places, "commune + km", French numbers."""
    data: dict[str, Any] = {
        "reference": "DOS-2026-042", "adults": "1", "children": "2",
        "monthly_income": "1 380", "housing_allowance": "262", "reference_income": "",
        "urgency": "3", "priority_categories": ["violence"],
        "requested_on": "2026-05-14", "ready_from": "2026-11-01", "consent_recorded_on": "",
        "search_communes": "", "search_departments": "59, 62",
        "excluded_communes": "Tourcoing", "excluded_departments": "Somme",
        "exclusion_points-0-commune": "Roubaix", "exclusion_points-0-distance_km": "10",
        "exclusion_points-0-lat": "", "exclusion_points-0-lon": "",
        "exclusion_points-1-commune": "", "exclusion_points-1-distance_km": "",
        "exclusion_points-1-lat": "", "exclusion_points-1-lon": "",
        "preferred_points-0-label": "école", "preferred_points-0-commune": "Lille",
        "preferred_points-0-lat": "", "preferred_points-0-lon": "",
        "notes": "Joignable le matin.",
    }
    data.update(overrides)
    return data


def text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.get_data(as_text=True))


def count(db) -> int:
    db.expire_all()
    return db.scalar(sa.select(sa.func.count()).select_from(Household))


@pytest.fixture
def referent(login_as):
    return login_as("association")


def verify_then_save(client, data):  # type: ignore[no-untyped-def]
    checked = client.post(NEW, data={**data, "action": "verify"})
    assert checked.status_code == 200, text(checked)
    signature = re.search(r'name="verified" type="hidden" value="([0-9a-f]+)"', checked.get_data(as_text=True))
    assert signature, "the check step signs what it showed"
    return checked, client.post(NEW, data={**data, "action": "save", "verified": signature[1]})


def test_home_is_the_list_of_the_associations_households(client, db, referent):
    mine = factories.create_household(db, association=referent.organisation, reference="DOS-A", adults=1,
                                      children=2, urgency=3, requested_on=TODAY - dt.timedelta(days=42))
    factories.create_household(db, association=referent.organisation, reference="DOS-B", status="draft",
                               consent_recorded_on=None, children=0)
    factories.create_household(db, reference="DOS-OTHER")  # another association's
    db.commit()
    page = text(client.get("/association/"))
    assert "DOS-A" in page and "DOS-B" in page and "DOS-OTHER" not in page
    assert "1 adulte, 2 enfants" in page and "1 adulte, sans enfant" in page
    assert "en attente depuis 42 jours" in page
    assert '<span class="badge badge-active">Active</span>' in page
    assert '<span class="badge badge-draft">Brouillon</span>' in page
    assert "3 — Danger immédiat" in page
    assert f'href="/association/menages/{mine.public_id}"' in page
    drafts = text(client.get("/association/?statut=draft"))
    assert "DOS-B" in drafts and "DOS-A" not in drafts
    found = text(client.get("/association/?reference=dos-a"))
    assert "DOS-A" in found and "DOS-B" not in found
    assert "Aucun ménage ne correspond" in text(client.get("/association/?reference=%25"))


def test_the_list_is_paged(client, db, referent, app):
    app.config["PAGE_SIZE"] = 2
    for i in range(3):
        factories.create_household(db, association=referent.organisation, reference=f"DOS-P{i}", urgency=1)
    db.commit()
    first, second = text(client.get("/association/")), text(client.get("/association/?page=2"))
    assert "Page 1 sur 2" in first and "Page 2 sur 2" in second
    assert sum(f"DOS-P{i}" in first for i in range(3)) == 2 and sum(f"DOS-P{i}" in second for i in range(3)) == 1


def test_the_form_asks_for_no_name_and_explains_the_reference(client, referent):
    page = text(client.get(NEW))
    assert "Jamais de nom, de prénom, d'adresse" in page
    assert "la distance plus le rayon de la commune" in page
    for field in ("name", "nom", "birth", "naissance", "address", "adresse"):
        assert f'name="{field}"' not in page


def test_check_shows_the_zones_in_words_before_anything_is_saved(client, db, referent):
    before = count(db)
    response = client.post(NEW, data={**form_data(), "action": "verify"})
    page = text(response)
    assert response.status_code == 200
    assert "Vérifiez avant d'enregistrer" in page
    assert "Jamais à moins de 10 km de Roubaix (59512)" in page
    assert "Jamais à Tourcoing (59599)" in page
    assert "Jamais dans le département Somme (80)" in page
    # 30 % of 1 380 € plus 262 € of housing allowance.
    assert re.search(r"jusqu'à 676 € par mois", page)
    assert "1 adulte, 2 enfants" in page
    assert count(db) == before


def test_save_stores_what_was_checked(client, db, referent):
    _, saved = verify_then_save(client, form_data())
    assert saved.status_code == 302
    household = db.scalar(sa.select(Household).where(Household.reference == "DOS-2026-042"))
    assert saved.headers["Location"] == f"/association/menages/{household.public_id}"
    assert household.status == "draft" and household.association_id == referent.organisation_id
    assert household.monthly_income == 1380 and household.children == 2 and household.urgency == 3
    zones = household.exclusion_zones
    assert {"commune": "59599"} in zones and {"department": "80"} in zones
    disc = next(z for z in zones if "lat" in z)
    assert disc["radius_km"] >= 10 + 2.74  # the whole of Roubaix, not only its centre
    assert household.search_area == {"communes": [], "departments": ["59", "62"]}
    assert household.preferred_points[0]["label"] == "école"
    page = text(client.get(saved.headers["Location"]))
    assert "Jamais à moins de 10 km de Roubaix (59512)" in page and "Jamais dans le département Somme (80)" in page
    assert "Joignable le matin." in page


def test_saving_without_a_check_or_after_a_change_shows_the_check_again(client, db, referent):
    before = count(db)
    response = client.post(NEW, data={**form_data(), "action": "save", "verified": "forged"})
    assert response.status_code == 200 and "Vérifiez avant d'enregistrer" in text(response)
    checked = client.post(NEW, data={**form_data(), "action": "verify"})
    signature = re.search(r'name="verified" type="hidden" value="([0-9a-f]+)"', checked.get_data(as_text=True))[1]
    changed = client.post(NEW, data={**form_data(excluded_departments=""), "action": "save", "verified": signature})
    page = text(changed)
    assert "Le formulaire a changé depuis la vérification" in page
    assert "Jamais dans le département Somme (80)" not in page
    assert count(db) == before


@pytest.mark.parametrize(("overrides", "field_id", "message"), [
    ({"adults": "0"}, "adults", "Le ménage compte au moins un adulte."),
    ({"monthly_income": "-10"}, "monthly_income", "Un montant ne peut pas être négatif."),
    ({"urgency": ""}, "urgency", "Champ obligatoire."),
    ({"ready_from": "2026-02-30"}, "ready_from", "Cette date n'existe pas : 2026-02-30."),
    ({"reference": "Mme Dupont"}, "reference", "La référence ne doit contenir ni nom"),
    ({"excluded_communes": "Roubaixx"}, "excluded_communes", "Commune inconnue : Roubaixx."),
    ({"excluded_communes": "Roub"}, "excluded_communes", "Aucune commune ne s'appelle exactement « Roub »"),
    ({"excluded_communes": "Saint-Martin"}, "excluded_communes", "Plusieurs communes s'appellent « Saint-Martin »"),
    ({"excluded_departments": "Atlantide"}, "excluded_departments", "Département inconnu : Atlantide."),
    ({"search_departments": "80"}, "search_departments", "Ce département est aussi une zone d'exclusion : 80."),
    ({"exclusion_points-0-distance_km": "0"}, "exclusion_points-0-distance_km",
     "Le rayon doit être supérieur à 0 km."),
    ({"exclusion_points-0-commune": "", "exclusion_points-0-lat": "123", "exclusion_points-0-lon": "3.1"},
     "exclusion_points-0-lat", "La latitude doit être comprise entre -90 et 90."),
    ({"exclusion_points-0-commune": "", "exclusion_points-0-lat": "50.7", "exclusion_points-0-lon": "3.1",
      "exclusion_points-0-distance_km": ""}, "exclusion_points-0-distance_km", "Rayon obligatoire (en km)."),
    ({"exclusion_points-0-lat": "50.7"}, "exclusion_points-0",
     "Indiquez soit une commune, soit des coordonnées : pas les deux."),
    ({"preferred_points-0-label": ""}, "preferred_points-0-label", "Champ obligatoire."),
])
def test_errors_are_shown_next_to_their_input_and_nothing_is_saved(client, db, referent, overrides, field_id,
                                                                   message):
    before = count(db)
    response = client.post(NEW, data={**form_data(**overrides), "action": "verify"})
    page = text(response)
    assert response.status_code == 422
    assert "Vérifiez avant d'enregistrer" not in page
    assert re.search(rf'id="{field_id}-error" class="field-error">[^<]*{re.escape(message)}', page) or \
        re.search(rf'id="{field_id}"[^>]*>\s*<legend>[^<]*</legend>\s*<p class="field-error">{re.escape(message)}',
                  page), page
    assert f'href="#{field_id}"' in page  # the summary at the top links to it
    assert count(db) == before


def test_ambiguous_commune_lists_the_candidates(client, referent):
    page = text(client.post(NEW, data={**form_data(excluded_communes="Saint-Martin"), "action": "verify"}))
    assert "Indiquez le code INSEE" in page and re.search(r"\d{5} \(Saint-Martin, ", page)


def test_a_commune_by_code_or_with_its_code_in_brackets(client, referent):
    page = text(client.post(NEW, data={**form_data(excluded_communes="59599, Wattrelos (59650)",
                                                   **{"exclusion_points-0-commune": "59512"}),
                                       "action": "verify"}))
    assert "Jamais à Tourcoing (59599)" in page and "Jamais à Wattrelos (59650)" in page
    assert "Jamais à moins de 10 km de Roubaix (59512)" in page


def test_a_zone_by_coordinates_and_radius(client, referent):
    data = form_data(**{"exclusion_points-0-commune": "", "exclusion_points-0-lat": "50,7236",
                        "exclusion_points-0-lon": "3,1610", "exclusion_points-0-distance_km": "5"})
    page = text(client.post(NEW, data={**data, "action": "verify"}))
    assert "Jamais à moins de 5 km du point 50.72360, 3.16100" in page


def test_add_a_row_without_javascript(client, referent):
    page = client.post(NEW, data={**form_data(), "action": "add_point"}).get_data(as_text=True)
    assert 'name="exclusion_points-2-commune"' in page
    assert 'value="Roubaix"' in page  # what was typed stays


def test_duplicate_reference_is_refused_at_the_check(client, db, referent):
    factories.create_household(db, association=referent.organisation, reference="DOS-2026-042")
    db.commit()
    response = client.post(NEW, data={**form_data(), "action": "verify"})
    assert response.status_code == 422
    assert "Vous avez déjà un ménage avec cette référence" in text(response)


def test_detail_page_logs_the_read_and_shows_the_zones_in_words(client, db, referent):
    household = factories.create_household(
        db, association=referent.organisation,
        exclusion_zones=[{"commune": "59599"}, {"lat": 50.7236, "lon": 3.161, "radius_km": 10.0}],
        notes="Note interne")
    db.commit()
    page = text(client.get(f"/association/menages/{household.public_id}"))
    assert "Jamais à Tourcoing (59599)" in page and "Jamais à moins de 10 km du point 50.72360, 3.16100" in page
    assert "Note interne" in page
    db.expire_all()
    event = db.scalar(sa.select(AuditEvent).where(AuditEvent.action == "household.read_sensitive"))
    assert event.object_id == household.public_id and event.actor_id == referent.id


def test_another_association_gets_404_on_every_page(client, db, referent):
    other = factories.create_household(db)
    db.commit()
    base = f"/association/menages/{other.public_id}"
    for url in (base, f"{base}/modifier", f"{base}/effacer"):
        assert client.get(url).status_code == 404
    for url in (f"{base}/activer", f"{base}/retirer", f"{base}/effacer", f"{base}/modifier"):
        assert client.post(url, data={"consent_recorded_on": "2026-05-01"}).status_code == 404
    db.expire_all()
    assert db.get(Household, other.id).status == "active"
    assert client.get("/association/menages/H-doesnotexist").status_code == 404


def test_landlords_never_reach_these_pages(client, db, login_as):
    household = factories.create_household(db)
    db.commit()
    login_as("landlord")
    assert client.get(f"/association/menages/{household.public_id}").status_code == 404
    assert client.get("/association/").status_code == 404


def test_consent_then_activation(client, db, referent):
    household = factories.create_household(db, association=referent.organisation, status="draft",
                                           consent_recorded_on=None)
    db.commit()
    url = f"/association/menages/{household.public_id}"
    refused = client.post(f"{url}/activer", data={"consent_recorded_on": (TODAY + dt.timedelta(days=2)).isoformat()})
    assert refused.status_code == 422
    assert "Cette date ne peut pas être dans le futur." in text(refused)
    db.expire_all()
    assert db.get(Household, household.id).status == "draft"
    response = client.post(f"{url}/activer", data={"consent_recorded_on": "2026-05-20"})
    assert response.status_code == 302
    db.expire_all()
    fresh = db.get(Household, household.id)
    assert fresh.status == "active" and fresh.consent_recorded_on == dt.date(2026, 5, 20) and fresh.activated_at
    assert "Demande activée" in text(client.get(url))


def test_withdraw(client, db, referent):
    household = factories.create_household(db, association=referent.organisation)
    db.commit()
    assert client.post(f"/association/menages/{household.public_id}/retirer").status_code == 302
    db.expire_all()
    assert db.get(Household, household.id).status == "withdrawn"


def test_withdrawing_or_erasing_a_proposed_household_says_what_it_cancels(client, db, referent):
    from models import Proposal

    household = factories.create_household(db, association=referent.organisation)
    run = factories.create_run(db)
    proposals = [factories.create_proposal(db, household=household, run=run, rank=r) for r in (1, 2)]
    db.commit()
    page = text(client.get(f"/association/menages/{household.public_id}"))
    assert "Retirer la demande : ses 2 propositions en cours seront annulées" in page
    erase = text(client.get(f"/association/menages/{household.public_id}/effacer"))
    assert "Effacer définitivement : ses 2 propositions en cours seront annulées" in erase
    r = client.post(f"/association/menages/{household.public_id}/retirer", follow_redirects=True)
    assert "Demande retirée." in text(r) and "2 propositions en cours ont été annulées" in text(r)
    db.expire_all()
    assert db.get(Household, household.id).status == "withdrawn"
    assert {db.get(Proposal, p.id).status for p in proposals} == {"cancelled"}


def test_erase_after_confirmation(client, db, referent):
    household = factories.create_household(db, association=referent.organisation, reference="DOS-GONE")
    db.commit()
    household_id, public_id = household.id, household.public_id
    url = f"/association/menages/{public_id}/effacer"
    assert "Effacer définitivement" in text(client.get(url))
    response = client.post(url)
    assert response.status_code == 302 and response.headers["Location"] == "/association/"
    db.expire_all()
    assert db.scalar(sa.select(Household).where(Household.id == household_id)) is None
    event = db.scalar(sa.select(AuditEvent).where(AuditEvent.action == "household.erase"))
    assert event.object_id == public_id
    assert "DOS-GONE" not in text(client.get("/association/"))


def test_edit_shows_the_saved_zones_in_the_forms_own_words(client, db, referent):
    _, saved = verify_then_save(client, form_data())
    url = saved.headers["Location"] + "/modifier"
    page = text(client.get(url))
    assert 'value="Tourcoing (59599)"' in page and 'value="Somme (80)"' in page
    assert 'value="Roubaix (59512)"' in page and 'name="exclusion_points-0-distance_km" type="text" value="10"' in page
    assert 'value="Lille (59350)"' in page
    # Saving it again unchanged keeps the same zones (no radius creeping up at each edit).
    household = db.scalar(sa.select(Household).where(Household.reference == "DOS-2026-042"))
    zones = household.exclusion_zones
    data = form_data(excluded_communes="Tourcoing (59599)", excluded_departments="Somme (80)",
                     **{"exclusion_points-0-commune": "Roubaix (59512)", "preferred_points-0-commune": "Lille (59350)"})
    checked = client.post(url, data={**data, "action": "verify"})
    signature = re.search(r'name="verified" type="hidden" value="([0-9a-f]+)"', checked.get_data(as_text=True))[1]
    assert client.post(url, data={**data, "action": "save", "verified": signature}).status_code == 302
    db.expire_all()
    assert db.get(Household, household.id).exclusion_zones == zones


def test_a_housed_household_cannot_be_edited(client, db, referent):
    household = factories.create_household(db, association=referent.organisation, status="housed")
    db.commit()
    response = client.get(f"/association/menages/{household.public_id}/modifier")
    assert response.status_code == 302


def test_the_form_shows_the_ceiling_the_matching_applies_in_her_territory(client, db, referent):
    """The coordination team of Nord sets 25 %: a household looking in Nord reads 25 %, the
    ceiling its runs apply (not a setting of the site), one looking elsewhere the default 30 %."""
    from services import runs

    team = factories.create_organisation(db, "coordinator", departments=["59"])
    runs.set_territory_policy(db, team, {"max_effort_rate": 0.25}, actor=factories.create_user(db, "coordinator",
                                                                                                organisation=team))
    db.commit()
    page = text(client.post(NEW, data={**form_data(monthly_income="1000", housing_allowance="100"),
                                       "action": "verify"}))
    assert "jusqu'à 350 € par mois" in page and "25 % de 1" in page
    elsewhere = text(client.post(NEW, data={**form_data(monthly_income="1000", housing_allowance="100",
                                                        search_departments="62"), "action": "verify"}))
    assert "jusqu'à 400 € par mois" in elsewhere and "30 % de 1" in elsewhere
