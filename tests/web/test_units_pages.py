"""The landlord's unit pages: list, form, publish/withdraw, import, template, reach."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from matching import geo
from models import Unit
from services import units
from tests import factories

FORM = {"reference": "LMH-100", "commune": "Lille", "lat": "", "lon": "", "location_uncertainty_km": "",
        "rooms": "3", "surface_m2": "64,5", "floor": "2", "elevator": "y", "rent": "412,50",
        "charges": "85", "financing": "PLUS", "available_from": "2026-12-01"}


@pytest.fixture
def landlord(login_as):  # type: ignore[no-untyped-def]
    return login_as("landlord")


def text(response):  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def own_units(db, user):  # type: ignore[no-untyped-def]
    return list(db.scalars(sa.select(Unit).where(Unit.landlord_id == user.organisation_id)))


def test_home_counts_units_by_status(client, db, landlord):
    factories.create_unit(db, landlord=landlord.organisation, status="draft")
    factories.create_unit(db, landlord=landlord.organisation, status="published")
    factories.create_unit(db, landlord=landlord.organisation, status="published")
    db.commit()
    page = text(client.get("/bailleur/"))
    assert "<h1>Espace bailleur</h1>" in page
    assert 'href="/bailleur/logements?status=published"' in page
    assert re.search(r'badge-published">Publié</span>\s*</a></th>\s*<td class="num">2</td>', page)
    assert '<th scope="row">Total</th><td class="num">3</td>' in page


def test_create_a_unit_through_the_form(client, db, landlord):
    r = client.post("/bailleur/logements/nouveau", data=FORM)
    assert r.status_code == 302
    [unit] = own_units(db, landlord)
    assert r.headers["Location"] == f"/bailleur/logements/{unit.public_id}"
    assert (unit.status, unit.commune, unit.department, unit.rooms) == ("draft", "59350", "59", 3)
    assert (unit.surface_m2, unit.rent, unit.charges, unit.elevator) == (64.5, Decimal("412.50"), Decimal("85"), True)
    lille = geo.commune("59350")
    assert (unit.lat, unit.lon, unit.location_uncertainty_km) == (lille.lat, lille.lon, lille.radius_km)
    page = text(client.get(r.headers["Location"]))
    assert "Logement LMH-100 enregistré comme brouillon." in page
    assert "Lille (59)" in page and "412,50\xa0€" in page
    assert "Au centre de la commune" in page


def test_form_errors_are_shown_next_to_their_fields(client, db, landlord):
    r = client.post("/bailleur/logements/nouveau",
                    data=dict(FORM, commune="Saint-Denis", rent="-4", rooms="0", available_from="2026-02-30"))
    assert r.status_code == 200
    page = text(r)
    assert 'role="alert"' in page and "Le logement n'a pas été enregistré" in page
    assert re.search(r'<input aria-describedby="rent-help rent-error" aria-invalid="true"[^>]* id="rent"', page)
    assert '<small id="rent-error" class="field-error">Le loyer doit être compris entre 0 et 5000 €.</small>' in page
    assert '<small id="rooms-error" class="field-error">Entre 1 et 20 pièces.</small>' in page
    assert "93066 (Saint-Denis, Seine-Saint-Denis)" in page
    assert 'id="available_from-error"' in page
    # What she typed is kept.
    assert 'value="Saint-Denis"' in page and 'value="64,5"' in page
    assert own_units(db, landlord) == []


def test_edit_publish_withdraw(client, db, landlord):
    unit = units.create_unit(db, landlord.organisation, {**FORM, "lat": "50,6312345", "lon": "3,0512345"})
    db.commit()
    page = text(client.get(f"/bailleur/logements/{unit.public_id}/modifier"))
    assert 'value="412,50"' in page and 'value="50,6312345"' in page and 'value="2026-12-01"' in page
    assert 'value="64,5"' in page and 'value="3,0512345"' in page
    r = client.post(f"/bailleur/logements/{unit.public_id}/modifier", data=dict(FORM, rent="450", lat="50,6312345",
                                                                                lon="3,0512345"))
    assert r.status_code == 302
    db.expire_all()
    assert db.get(Unit, unit.id).rent == Decimal("450.00")
    assert (db.get(Unit, unit.id).lat, db.get(Unit, unit.id).lon) == (50.6312345, 3.0512345)
    assert client.post(f"/bailleur/logements/{unit.public_id}/publier").status_code == 302
    db.expire_all()
    assert db.get(Unit, unit.id).status == "published"
    page = text(client.get(f"/bailleur/logements/{unit.public_id}"))
    assert "Logement LMH-100 publié" in page and "Retirer" in page
    client.post(f"/bailleur/logements/{unit.public_id}/retirer")
    db.expire_all()
    assert db.get(Unit, unit.id).status == "withdrawn"


def test_a_proposed_unit_is_not_edited_and_its_withdrawal_says_what_it_cancels(client, db, landlord):
    from models import Proposal

    unit = factories.create_unit(db, landlord=landlord.organisation)
    run = factories.create_run(db)
    first, second = (factories.create_proposal(db, unit=unit, run=run, rank=r) for r in (1, 2))
    db.commit()
    page = text(client.get(f"/bailleur/logements/{unit.public_id}"))
    assert "propositions en cours" in page and "/modifier" not in page
    assert "Retirer ce logement : ses 2 propositions en cours seront annulées" in page
    # Its candidates, in the commission's order (none retained yet: by the matching's rank).
    assert page.index(first.public_id) < page.index(second.public_id)
    r = client.post(f"/bailleur/logements/{unit.public_id}/modifier", data=dict(FORM, rent="1"))
    assert r.status_code == 302
    r = client.post(f"/bailleur/logements/{unit.public_id}/retirer", follow_redirects=True)
    assert "2 propositions en cours ont été annulées" in text(r) and "retiré" in text(r)
    db.expire_all()
    assert (db.get(Unit, unit.id).status, db.get(Unit, unit.id).rent) == ("withdrawn", Decimal("412.50"))
    assert {db.get(Proposal, p.id).status for p in (first, second)} == {"cancelled"}


def test_another_landlords_unit_is_404(client, db, landlord):
    other = factories.create_unit(db, status="draft")
    db.commit()
    for method, path in [("get", ""), ("get", "/modifier"), ("post", "/modifier"), ("post", "/publier"),
                         ("post", "/retirer")]:
        r = getattr(client, method)(f"/bailleur/logements/{other.public_id}{path}", data=FORM)
        assert r.status_code == 404, path
    assert other.public_id not in text(client.get("/bailleur/logements"))
    db.expire_all()
    assert db.get(Unit, other.id).status == "draft"


def test_other_roles_do_not_see_the_pages(client, login_as):
    login_as("association")
    assert client.get("/bailleur/logements").status_code == 404


def test_list_filters_and_pages(client, db, landlord):
    org = landlord.organisation
    for i in range(30):
        factories.create_unit(db, landlord=org, reference=f"L-{i:02d}", rooms=2 + i % 2)
    factories.create_unit(db, landlord=org, reference="ROUBAIX-1", commune="59512", department="59",
                          rooms=7, status="withdrawn", lat=None, lon=None)
    factories.create_unit(db, reference="NOT-MINE")
    db.commit()
    page = text(client.get("/bailleur/logements"))
    assert "31 logements" in page and "page 1 sur 2" in page and "NOT-MINE" not in page
    assert 'href="/bailleur/logements?page=2"' in page
    assert '<option value="59512">Roubaix (59)</option>' in page
    page = text(client.get("/bailleur/logements?commune=59512"))
    assert "1 logement" in page and "ROUBAIX-1" in page and "L-01" not in page
    page = text(client.get("/bailleur/logements?rooms=6"))
    assert "ROUBAIX-1" in page and "T6+" in page and "1 logement" in page
    page = text(client.get("/bailleur/logements?rooms=3&page=1"))
    assert "15 logements" in page
    page = text(client.get("/bailleur/logements?status=withdrawn"))
    assert '<span class="badge badge-withdrawn">Retiré</span>' in page and "1 logement" in page


CSV = ("reference;commune;latitude;longitude;pieces;surface_m2;etage;ascenseur;accessible_fauteuil;"
       "loyer;charges;financement;qpv;disponible_le\r\n"
       "IMP-1;Marcq-en-Barœul;;;3;64,5;2;oui;non;412,50;85,00;PLUS;non;01/12/2026\r\n"
       "IMP-2;Lille;50,6292;3,0573;2;48;0;non;oui;356,20;60;PLAI;oui;2026-12-15\r\n")


def upload(client, data, name="logements.csv"):  # type: ignore[no-untyped-def]
    return client.post("/bailleur/logements/importer", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_import_shows_a_summary(client, db, landlord):
    r = upload(client, CSV.encode("cp1252"))
    assert r.status_code == 200
    page = text(r)
    assert "2 logements ont été créés comme brouillons." in page
    assert "Marcq-en-Barœul (59)" in page and "<th scope=\"row\">T3</th>" in page
    created = {u.reference: u for u in own_units(db, landlord)}
    assert set(created) == {"IMP-1", "IMP-2"}
    assert created["IMP-1"].commune == "59378" and created["IMP-2"].rent == Decimal("356.20")
    assert f'/bailleur/logements/{created["IMP-1"].public_id}' in page


def test_one_button_publishes_what_an_import_created(client, db, landlord):
    page = text(upload(client, CSV.encode("cp1252")))
    assert "Publier les 2 logements importés" in page
    ids = re.findall(r'name="units" value="([^"]+)"', page)
    assert sorted(ids) == sorted(u.public_id for u in own_units(db, landlord))
    r = client.post("/bailleur/logements/publier", data={"units": ids}, follow_redirects=True)
    assert r.status_code == 200 and "2 logements publiés" in text(r)
    db.expire_all()
    assert {u.status for u in own_units(db, landlord)} == {"published"}
    # Again: nothing is a draft any more, nothing changes, and the page says why.
    r = client.post("/bailleur/logements/publier", data={"units": ids}, follow_redirects=True)
    assert "Aucun logement n&#39;a été publié" in text(r) or "Aucun logement n'a été publié" in text(r)


def test_ticked_drafts_are_published_together_all_or_nothing(client, db, landlord):
    drafts = [factories.create_unit(db, landlord=landlord.organisation, status="draft", reference=f"BR-{i}")
              for i in range(3)]
    withdrawn = factories.create_unit(db, landlord=landlord.organisation, status="withdrawn", reference="RET-1")
    foreign = factories.create_unit(db, status="draft")
    db.commit()
    page = text(client.get("/bailleur/logements"))
    assert "Publier les brouillons cochés" in page
    assert page.count('type="checkbox" name="units"') == 3 and withdrawn.public_id not in re.findall(
        r'name="units" value="([^"]+)"', page)
    r = client.post("/bailleur/logements/publier", data={"units": [drafts[0].public_id, withdrawn.public_id]},
                    follow_redirects=True)
    assert "RET-1" in text(r)
    r = client.post("/bailleur/logements/publier", data={"units": [drafts[0].public_id, foreign.public_id]},
                    follow_redirects=True)
    assert "Logement introuvable" in text(r)
    assert "Choisissez au moins un logement" in text(client.post("/bailleur/logements/publier",
                                                                 follow_redirects=True))
    db.expire_all()
    assert {db.get(Unit, u.id).status for u in drafts} == {"draft"}
    r = client.post("/bailleur/logements/publier", data={"units": [u.public_id for u in drafts[:2]]},
                    follow_redirects=True)
    assert "2 logements publiés" in text(r)
    db.expire_all()
    assert [db.get(Unit, u.id).status for u in drafts] == ["published", "published", "draft"]


def test_import_with_a_bad_line_stores_nothing_and_names_it(client, db, landlord):
    bad = CSV + "IMP-3;99999;;;3;64;2;oui;non;abc;85;PLUS;non;01/12/2026\r\n"
    r = upload(client, bad.encode("cp1252"))
    assert r.status_code == 422
    page = text(r)
    assert "Le fichier comporte 2 erreurs : aucun logement n'a été enregistré." in page
    assert '<tr><td class="num">4</td><td>commune</td><td>Code INSEE inconnu : 99999.</td></tr>' in page
    assert '<tr><td class="num">4</td><td>loyer</td><td>Nombre attendu (par exemple 412,50).</td></tr>' in page
    assert own_units(db, landlord) == []


def test_import_without_a_file(client, landlord):
    r = client.post("/bailleur/logements/importer", data={}, content_type="multipart/form-data")
    assert r.status_code == 422 and "Choisissez un fichier CSV, XLSX, XLS ou ODS." in text(r)
    r = upload(client, b"")
    assert r.status_code == 422 and "Le fichier est vide." in text(r)


def test_templates_download_and_import_back(client, db, landlord):
    r = client.get("/bailleur/logements/modele.csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert "attachment; filename=modele-logements.csv" == r.headers["Content-Disposition"]
    header = r.data.decode("utf-8-sig").splitlines()[0]
    assert header == ";".join(units.TEMPLATE_HEADERS)
    assert header.startswith("reference;commune;latitude;longitude;incertitude_km;pieces;surface_m2;etage")
    r = client.get("/bailleur/logements/modele.xlsx")
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.data)).worksheets[0]
    assert [c.value for c in sheet[1]] == list(units.TEMPLATE_HEADERS)
    assert upload(client, r.data, "modele-logements.xlsx").status_code == 200
    assert len(own_units(db, landlord)) == 2
    assert client.get("/bailleur/logements/modele.pdf").status_code == 404


def test_import_over_the_size_limit_is_refused(client, db, landlord):
    # Built by hand: werkzeug's test client would spool a large body to a file it never closes.
    body = (b'--B\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
            b"Content-Type: text/csv\r\n\r\n" + b"x" * (11 * 1024 * 1024) + b"\r\n--B--\r\n")
    r = client.post("/bailleur/logements/importer", data=body, content_type="multipart/form-data; boundary=B")
    assert r.status_code == 413
    assert '<small id="file-error" class="field-error">Le fichier dépasse 10 Mo : découpez-le en plusieurs ' \
           'fichiers.</small>' in text(r)
    assert own_units(db, landlord) == []


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_size_limit_is_answered_before_the_csrf_check_reads_the_body(client):
    body = b"--B\r\n" + b"x" * (11 * 1024 * 1024) + b"\r\n--B--\r\n"
    r = client.post("/bailleur/logements/importer", data=body, content_type="multipart/form-data; boundary=B")
    assert r.status_code == 413 and "Le fichier dépasse 10 Mo" in text(r)


def test_a_unit_at_its_communes_point_is_edited_with_empty_coordinates(client, db, landlord):
    unit = units.create_unit(db, landlord.organisation, FORM)
    db.commit()
    page = text(client.get(f"/bailleur/logements/{unit.public_id}/modifier"))
    assert re.search(r'id="lat" inputmode="decimal" name="lat" type="text" value=""', page)
    assert 'name="location_uncertainty_km" type="text" value=""' in page
    # Moved to Roubaix: the point and the uncertainty follow the commune.
    assert client.post(f"/bailleur/logements/{unit.public_id}/modifier",
                       data=dict(FORM, commune="59512")).status_code == 302
    db.expire_all()
    roubaix = geo.commune("59512")
    assert (db.get(Unit, unit.id).lat, db.get(Unit, unit.id).location_uncertainty_km) == (roubaix.lat,
                                                                                        roubaix.radius_km)


def test_the_commune_field_suggests_communes(client, landlord):
    page = text(client.get("/bailleur/logements/nouveau"))
    assert 'hx-get="/bailleur/communes"' in page and 'list="communes-suggestions"' in page
    assert '<datalist id="communes-suggestions"></datalist>' in page
    options = text(client.get("/bailleur/communes?commune=Saint-Denis"))
    assert '<option value="93066">Saint-Denis (Seine-Saint-Denis)</option>' in options
    assert '<option value="97411">Saint-Denis (La Réunion)</option>' in options
    assert text(client.get("/bailleur/communes?commune=x")).strip() == ""


def test_a_huge_page_number_shows_an_empty_page(client, landlord):
    r = client.get("/bailleur/logements?page=189335235388201271296")
    assert r.status_code == 200 and "Vous n'avez encore aucun logement" in text(r)


def test_the_edit_form_writes_numbers_the_readers_way(client, db, landlord):
    unit = units.create_unit(db, landlord.organisation, {**FORM, "lat": "50,6312345", "lon": "3,0512345"})
    landlord.locale = "en"
    db.commit()
    page = text(client.get(f"/bailleur/logements/{unit.public_id}/modifier"))
    assert 'value="412.50"' in page and 'value="50.6312345"' in page and 'value="64.5"' in page
    assert 'value="412,50"' not in page
    # Saved unchanged in English, the unit does not move.
    r = client.post(f"/bailleur/logements/{unit.public_id}/modifier",
                    data=dict(FORM, rent="412.50", lat="50.6312345", lon="3.0512345", surface_m2="64.5"))
    assert r.status_code == 302
    db.expire_all()
    saved = db.get(Unit, unit.id)
    assert (saved.rent, saved.lat, saved.lon) == (Decimal("412.50"), 50.6312345, 3.0512345)


def test_the_import_notes_are_read_in_the_landlords_language(client, db, landlord):
    page = text(client.get("/bailleur/logements/importer"))
    assert "Une ligne par logement" in page
    help_sheet = load_workbook(io.BytesIO(client.get("/bailleur/logements/modele.xlsx").data)).worksheets[1]
    assert any("Une ligne par logement" in str(c.value) for row in help_sheet.iter_rows() for c in row)
    landlord.locale = "en"
    db.commit()
    page = text(client.get("/bailleur/logements/importer"))
    assert "One line per unit" in page and "Une ligne par logement" not in page
    help_sheet = load_workbook(io.BytesIO(client.get("/bailleur/logements/modele.xlsx").data)).worksheets[1]
    assert any("One line per unit" in str(c.value) for row in help_sheet.iter_rows() for c in row)


# -- export, and an update by reference sent back ---------------------------------------------------


@pytest.mark.parametrize("kind", ["csv", "xlsx", "ods"])
def test_the_template_and_the_export_download_in_each_format(client, db, landlord, kind):
    from services import imports, units

    factories.create_unit(db, landlord.organisation, reference="MINE-1")
    factories.create_unit(db, reference="THEIRS-1")
    db.commit()
    template = client.get(f"/bailleur/logements/modele.{kind}")
    assert template.status_code == 200 and f"modele-logements.{kind}" in template.headers["Content-Disposition"]
    export = client.get(f"/bailleur/logements/export.{kind}")
    assert export.status_code == 200 and f"mes-logements.{kind}" in export.headers["Content-Disposition"]
    table = imports.read_table(f"x.{kind}", export.data, units.IMPORT_COLUMNS)
    assert [r.cells["reference"] for r in table.rows] == ["MINE-1"]


def test_an_export_edited_and_sent_back_updates_by_reference(client, db, landlord):
    from openpyxl import load_workbook

    unit = factories.create_unit(db, landlord.organisation, reference="MINE-1", rent=Decimal("400.00"))
    db.commit()
    workbook = load_workbook(io.BytesIO(client.get("/bailleur/logements/export.xlsx").data))
    sheet = workbook.worksheets[0]
    rent_column = [c.value for c in sheet[1]].index("loyer") + 1
    sheet.cell(2, rent_column).value = 455.5
    out = io.BytesIO()
    workbook.save(out)
    r = client.post("/bailleur/logements/importer", data={"mode": "update", "file": (io.BytesIO(out.getvalue()),
                                                                                     "mes-logements.xlsx")},
                    content_type="multipart/form-data")
    assert r.status_code == 200
    assert "1 logement a été modifié." in text(r)
    db.expire_all()
    assert unit.rent == Decimal("455.50")


def test_an_update_with_an_unknown_reference_changes_nothing_and_says_where(client, db, landlord):
    unit = factories.create_unit(db, landlord.organisation, reference="MINE-1", rent=Decimal("400.00"))
    db.commit()
    data = b"reference;loyer\nMINE-1;500\nNOPE-9;400\n"
    r = client.post("/bailleur/logements/importer", data={"mode": "update", "file": (io.BytesIO(data), "maj.csv")},
                    content_type="multipart/form-data")
    assert r.status_code == 422
    page = text(r)
    assert "Aucun de vos logements n'a la référence NOPE-9." in page
    assert "aucun logement n'a été enregistré" in page
    db.expire_all()
    assert unit.rent == Decimal("400.00")


def test_the_api_updates_by_reference_all_or_nothing(app, db, landlord):
    user = landlord
    unit = factories.create_unit(db, landlord.organisation, reference="MINE-1", rent=Decimal("400.00"))
    token = factories.create_token(db, user)
    db.commit()
    api = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    def send(body: bytes):  # type: ignore[no-untyped-def]
        return api.post("/api/v1/units/import/update", headers=headers, content_type="multipart/form-data",
                        data={"file": (io.BytesIO(body), "maj.csv")})

    bad = send(b"reference;loyer\nMINE-1;500\nNOPE-9;400\n")
    assert bad.status_code == 422
    assert bad.json["errors"]["rows"] == [
        {"line": 3, "column": "reference", "message": "Aucun de vos logements n'a la référence NOPE-9."}]
    good = send(b"reference;loyer\nMINE-1;500\n")
    assert good.status_code == 200
    assert good.json == {"updated": 1, "unchanged": 0, "units": [{"id": unit.public_id, "reference": "MINE-1"}]}
    db.expire_all()
    assert unit.rent == Decimal("500.00")
