"""Template filters and helpers that speak the reader's language: numbers, amounts, stored
messages, a household's size.

French writes "2,5 km" and "1 200,00 €", English "2.5 km" and "€1,200.00": never format a
number with "%.1f" and a replace(".", ","), use these (the locale is the request's).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Flask
from flask_babel import format_currency, gettext, ngettext
from markupsafe import Markup

from services import labels, leases, messages, worklists


def decimal(value: float | int | Decimal | None, digits: int = 2, fixed: bool = False) -> str:
    """`{{ 2.5|decimal }}`: "2,5" in French, "2.5" in English; empty for no value."""
    if value is None or value == "":
        return ""
    return messages.number(value, digits, fixed=fixed)


def euros(value: float | int | Decimal | None) -> str:
    """`{{ unit.rent|euros }}`: "1 200,00 €" in French, "€1,200.00" in English."""
    if value is None or value == "":
        return ""
    return str(format_currency(value, "EUR"))


def composition(adults: int, children: int) -> str:
    """ "1 adulte, 2 enfants", "2 adultes, sans enfant" """
    words = ngettext("%(num)d adulte", "%(num)d adultes", adults)
    if children == 0:
        return gettext("%(adults)s, sans enfant", adults=words)
    return words + ", " + ngettext("%(num)d enfant", "%(num)d enfants", children)


def translated(msgid: str, params: dict[str, Any] | None = None) -> Markup:
    """`{{ n.msgid|translated(n.params) }}`: a stored message in the reader's language."""
    return messages.html(msgid, params)


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(decimal=decimal, euros=euros, translated=translated, label=labels.label,
                               reference=worklists.reference, lease_kind=leases.kind_label)
