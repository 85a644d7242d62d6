"""What is written once in French is read in each reader's language: notifications, a run's
error, numbers."""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from services import notifications, profiles, runs
from tests import factories
from web import formatting


def text(response):  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def speaking(db, role, organisation, locale):  # type: ignore[no-untyped-def]
    """A user whose own language (her account's) is `locale`."""
    user = factories.create_user(db, role, organisation=organisation)
    user.locale = locale
    db.flush()
    return user


@pytest.fixture
def association(db):  # type: ignore[no-untyped-def]
    org = factories.create_organisation(db, "association")
    # Written as a job writes it: no request, the platform's first language (French).
    notifications.tell(db, org, _l("La proposition %(id)s est annulée.", id="P-LANG-1"),
                       "/association/propositions/P-LANG-1")
    notifications.notify(db, organisation=org, message=_l("La proposition %(id)s est annulée.", id="<b>P-2</b>"))
    db.commit()
    return org


def test_a_notification_reads_in_english_for_an_english_speaking_user(client, login_as, db, association):
    login_as(speaking(db, "association", association, "en"))
    page = text(client.get("/association/notifications"))
    assert "Proposal P-LANG-1 is cancelled." in page
    assert "La proposition P-LANG-1" not in page
    # A parameter is text, never markup.
    assert "Proposal &lt;b&gt;P-2&lt;/b&gt; is cancelled." in page and "<b>P-2</b>" not in page


def test_the_same_notification_reads_in_french_for_a_french_speaking_user(client, login_as, db, association):
    login_as(speaking(db, "association", association, "fr"))
    page = text(client.get("/association/notifications"))
    assert "La proposition P-LANG-1 est annulée." in page
    assert "Proposal P-LANG-1" not in page


def test_a_notification_stores_the_msgid_and_its_parameters_not_the_text(db, association):
    note = notifications.for_user(db, factories.create_user(db, "association", organisation=association))[-1]
    assert (note.msgid, note.params) == ("La proposition %(id)s est annulée.", {"id": "P-LANG-1"})
    assert note.message == "La proposition P-LANG-1 est annulée."


@pytest.fixture
def failed_run(db):  # type: ignore[no-untyped-def]
    run = factories.create_run(db, status="failed", phase="failed", released_at=None,
                               policy={"max_effort_rate": 0.3, "candidates_per_unit": 3, "horizon_days": 90},
                               error=runs._error("crashed", error="RuntimeError: out of memory"))
    db.commit()
    return run


def coordinator(db, locale):  # type: ignore[no-untyped-def]
    org = factories.create_organisation(db, "coordinator", departments=["59", "62"])
    return speaking(db, "coordinator", org, locale)


def test_a_run_error_is_shown_in_english_to_an_english_speaking_coordinator(client, login_as, db, failed_run):
    login_as(coordinator(db, "en"))
    page = text(client.get(f"/coordination/rapprochements/{failed_run.public_id}"))
    assert "Error during the calculation: RuntimeError: out of memory" in page
    assert "Erreur pendant le calcul" not in page


def test_a_run_error_is_shown_in_french_to_a_french_speaking_coordinator(client, login_as, db, failed_run):
    login_as(coordinator(db, "fr"))
    page = text(client.get(f"/coordination/rapprochements/{failed_run.public_id}"))
    assert "Erreur pendant le calcul : RuntimeError: out of memory" in page


@pytest.mark.parametrize(("language", "message"), [
    ("en", "Error during the calculation: RuntimeError: out of memory"),
    ("fr", "Erreur pendant le calcul : RuntimeError: out of memory"),
])
def test_the_api_gives_a_run_error_as_a_stable_code_and_words_in_the_callers_language(client, db, failed_run,
                                                                                     language, message):
    token = factories.create_token(db, coordinator(db, "fr"))
    db.commit()
    body = client.get(f"/api/v1/match-runs/{failed_run.public_id}",
                      headers={"Authorization": f"Bearer {token}", "Accept-Language": language}).json
    assert (body["error_code"], body["error"]) == ("crashed", message)


def test_a_run_without_error_has_no_error_code(client, db):
    run = factories.create_run(db, status="succeeded")
    token = factories.create_token(db, coordinator(db, "fr"))
    db.commit()
    body = client.get(f"/api/v1/match-runs/{run.public_id}", headers={"Authorization": f"Bearer {token}"}).json
    assert (body["error_code"], body["error"]) == (None, None)


@pytest.mark.parametrize(("language", "km", "score", "amount"), [
    ("fr", "2,5", "1\u202f234,0", "1\u202f200,50\xa0€"),
    ("en", "2.5", "1,234.0", "€1,200.50"),
])
def test_numbers_have_a_decimal_comma_in_french_and_a_point_in_english(app, language, km, score, amount):
    with app.test_request_context(), force_locale(language):
        assert formatting.decimal(2.5) == km
        assert formatting.decimal(1234, 1, fixed=True) == score
        assert formatting.euros(1200.5) == amount
        assert formatting.decimal(None) == ""


@pytest.mark.parametrize(("language", "low", "middle", "top"), [
    ("fr", "moins de 500\xa0€/mois", "1\xa0000–1\xa0499\xa0€/mois", "3\xa0000\xa0€/mois et plus"),
    ("en", "under €500/month", "€1,000–1,499/month", "€3,000/month or more"),
])
def test_a_landlord_reads_the_income_band_in_her_language(app, language, low, middle, top):
    with app.test_request_context(), force_locale(language):
        assert [profiles.income_band(x) for x in (120, 1499, 4200)] == [low, middle, top]


def test_a_stored_message_is_never_trusted_as_markup(app):
    """A msgid read back from the database is escaped like its parameters."""
    from services import messages

    with app.test_request_context():
        shown = str(messages.html("<script>x()</script> %(id)s", {"id": "<b>P</b>"}))
    assert shown == "&lt;script&gt;x()&lt;/script&gt; &lt;b&gt;P&lt;/b&gt;"
