"""Messages kept untranslated, to be said later in the reader's language.

A notification or a run's error is written once (often by a job, in French) and read many
times, by people who do not all read French. So what is stored is the French msgid and its
parameters, never the rendered text; `html` and `text` translate at display time.

The callers keep writing `_l("La proposition %(id)s est annulée.", id=...)`: `deferred`
takes the msgid and the parameters out of that lazy string. A parameter that is itself a
lazy string is kept the same way (`{"msgid": ..., "params": ...}`) and translated too.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any

from babel.numbers import NumberPattern, parse_pattern
from flask_babel import LazyString, get_locale, gettext
from markupsafe import Markup, escape

from models.notifications import french  # noqa: F401 - re-exported: the French text, without Flask

MSGID_LENGTH = 300
# The platform's first language: what is said where no reader's language is known.
DEFAULT_LOCALE = "fr"


def _param(value: Any) -> Any:
    if isinstance(value, LazyString):
        msgid, params = deferred(value)
        return {"msgid": msgid, "params": params}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    # Anything else (a date, a Decimal...) as the text it would have been shown as.
    return str(value)


def deferred(message: Any) -> tuple[str, dict[str, Any]]:
    """The msgid and JSON-ready parameters of a message made with `lazy_gettext`.

    A plain string (already rendered, or not meant to be translated) is kept as it is,
    without parameters: it is then shown as written, in every language.
    """
    func = getattr(message, "_func", None)
    args: tuple[Any, ...] = getattr(message, "_args", ())
    if isinstance(message, LazyString) and getattr(func, "__name__", "") == "gettext" and len(args) == 1:
        msgid = str(args[0])
        if len(msgid) > MSGID_LENGTH:
            raise ValueError(f"a deferred message's msgid is at most {MSGID_LENGTH} characters")
        return msgid, {name: _param(value) for name, value in message._kwargs.items()}
    return str(message)[:MSGID_LENGTH], {}


def _value(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"msgid", "params"}:
        return text(value["msgid"], value["params"])
    return value


def text(msgid: str, params: dict[str, Any] | None) -> str:
    """The message as plain text in the current language (JSON, logs, e-mails)."""
    translated: str = gettext(msgid)  # flask_babel has no type hints: its gettext is Any
    if not params:
        return translated
    return translated % {name: _value(value) for name, value in params.items()}


def html(msgid: str, params: dict[str, Any] | None) -> Markup:
    """The message for a page in the current language, every part of it escaped.

    Stored messages are plain text: the catalogue's text is escaped like the parameters
    (a msgid read back from the database is never trusted as HTML).
    """
    translated = escape(gettext(msgid))
    if not params:
        return translated
    # Markup's % escapes each parameter (and keeps %d, %.1f working).
    return translated % {name: _value(value) for name, value in params.items()}



def number(value: float | int | Decimal, digits: int = 2, *, fixed: bool = False) -> str:
    """A number in the current language: "2,5" in French, "2.5" in English, grouped by thousands.

    Up to `digits` decimals, trailing zeros dropped, unless `fixed` (always `digits` of them).
    """
    return str(_pattern(digits, fixed).apply(value, get_locale() or DEFAULT_LOCALE))


@functools.cache
def _pattern(digits: int, fixed: bool) -> NumberPattern:
    # Parsed once: a run's review shows hundreds of numbers, and parsing was most of the cost.
    decimals = ("0" if fixed else "#") * digits
    return parse_pattern("#,##0" + ("." + decimals if digits else ""))
