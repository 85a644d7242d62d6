"""What every API list shares: paging arguments and the `{"items": [...], ...}` envelope;
and the strict base of request bodies."""

from __future__ import annotations

from functools import cache

from marshmallow import RAISE, Schema, fields, validate

from services.paging import MAX_PAGE, MAX_PER_PAGE


class PageArgs(Schema):
    """`?page=1&per_page=25`"""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(load_default=25, validate=validate.Range(min=1, max=MAX_PER_PAGE))


@cache
def page_of(item_schema: type[Schema]) -> type[Schema]:
    """The schema of a page of `item_schema` items (one class per item schema, for OpenAPI)."""
    name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item_schema), required=True),
            "page": fields.Integer(required=True),
            "per_page": fields.Integer(required=True),
            "total": fields.Integer(required=True),
            "pages": fields.Integer(required=True),
        },
        name=name,
    )


def list_of(item_schema: type[Schema], name: str) -> type[Schema]:
    """The schema of an unpaged list, `{"items": [...]}` (contract: api.md), documented as such
    so that clients and the fuzzer read the answer the API really gives."""
    return Schema.from_dict({"items": fields.List(fields.Nested(item_schema), required=True)}, name=name)


class StrictSchema(Schema):
    """A request body: an unknown field is refused (422), never ignored."""

    class Meta:
        unknown = RAISE
