"""The OpenAPI document: every operation named once, and its errors documented."""

from __future__ import annotations

from web.api.openapi import OPERATION_IDS

METHODS = {"get", "post", "put", "patch", "delete"}


def operations(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    return spec, [(path, method, op) for path, ops in spec["paths"].items()
                  for method, op in ops.items() if method in METHODS]


def test_every_operation_has_a_unique_operation_id(client):
    _spec, ops = operations(client)
    ids = [op.get("operationId") for _p, _m, op in ops]
    assert all(ids), [(p, m) for p, m, op in ops if not op.get("operationId")]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    named = {(p, m): op["operationId"] for p, m, op in ops}
    assert named[("/api/v1/requests/{request_id}/offers", "post")] == "offerUnitOnRequest"
    assert named[("/api/v1/proposals", "post")] == "createDirectMatch"


def test_the_table_names_only_routes_that_exist(app):
    routes = {(rule.endpoint, method.lower()) for rule in app.url_map.iter_rules()
              for method in rule.methods or ()}
    assert set(OPERATION_IDS) <= routes, set(OPERATION_IDS) - routes


def test_errors_are_documented_with_the_error_schema(client):
    spec, ops = operations(client)
    for path, method, op in ops:
        responses = op["responses"]
        assert {"401", "404"} <= set(responses), (method, path)
        if method != "get":
            assert {"409", "422", "429"} <= set(responses), (method, path)
    error = spec["components"]["responses"]["CONFLICT"]["content"]["application/json"]["schema"]
    assert error == {"$ref": "#/components/schemas/Error"}
    assert {"code", "errors", "request_id"} <= set(spec["components"]["schemas"]["Error"]["properties"])
