"""Fuzzing the JSON API from its OpenAPI document (schemathesis), as each role with a bearer token.

For every operation and every role: generated requests (valid and invalid) never get a 5xx,
and every answer has the content type and the body its schema documents. Bounded: a few
examples per operation, so that the whole run takes a few minutes.
"""

from __future__ import annotations

import datetime as dt

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from tests import factories

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 20
ROLES = ("landlord", "association", "coordinator", "committee")


@pytest.fixture
def api_schema(app, db):  # type: ignore[no-untyped-def]
    """The app's own OpenAPI document, with some records of each side to find."""
    landlord = factories.create_organisation(db, "landlord")
    association = factories.create_organisation(db, "association")
    unit = factories.create_unit(db, landlord=landlord)
    household = factories.create_household(db, association=association)
    factories.create_proposal(db, unit=unit, household=household, deadline=dt.date.today() + dt.timedelta(days=10))
    app.config["fuzz_orgs"] = {"landlord": landlord, "association": association}
    db.commit()
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture
def tokens(app, db, api_schema):  # type: ignore[no-untyped-def]
    """A bearer token per role, for users of the organisations that own the records."""
    result = {}
    for role in ROLES:
        user = factories.create_user(db, role=role, organisation=app.config["fuzz_orgs"].get(role))
        result[role] = factories.create_token(db, user)
    db.commit()
    return result


def _fuzz(operation, tokens: dict[str, str]) -> list[str]:  # type: ignore[no-untyped-def]
    """Run generated cases of one operation as every role; the failures, described."""
    failures: list[str] = []

    @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
              database=None, phases=[Phase.explicit, Phase.generate])
    @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE)
           | operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
    def run(case) -> None:  # type: ignore[no-untyped-def]
        for role in ROLES:
            try:
                case.call_and_validate(headers={"Authorization": f"Bearer {tokens[role]}"},
                                       checks=[not_a_server_error, content_type_conformance,
                                               response_schema_conformance])
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - all reported, then the test fails
                if len(failures) < 3:
                    failures.append(f"{operation.label} as {role}: {exc}\n    {case.as_curl_command()}")

    run()
    return failures


def test_api_never_fails_and_answers_as_documented(api_schema, tokens):  # type: ignore[no-untyped-def]
    failures: list[str] = []
    operations = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        operations += 1
        failures += _fuzz(operation, tokens)
    assert operations >= 20, "the OpenAPI document lost its operations"
    assert not failures, "\n\n".join(failures)
