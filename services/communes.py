"""Communes as users type them: an INSEE code, or a name that must designate exactly one commune.

A unit's location decides which exclusion zones it falls in, so a name is never guessed:
an ambiguous or approximate name is refused with the candidates, and the user gives the
INSEE code (or the department, as in "Saint-Denis (93)").
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

from flask_babel import lazy_gettext as _l

from matching import geo
from services.errors import ValidationError

__all__ = ["Commune", "describe", "resolve"]

Commune = geo.Commune

# "Saint-Denis (93)", "Saint-Denis (974)", "Ajaccio (2A)": a name with its department.
_WITH_DEPARTMENT = re.compile(r"^(?P<name>.+?)\s*\(\s*(?P<dept>\d{2,3}|2[AaBb])\s*\)\s*$")
_CODE_LIKE = re.compile(r"^(\d{5}|2[AaBb]\d{3})$")
_MAX_CANDIDATES = 6


def describe(code: str) -> str:
    """"Lille (59)" for a known code, the code itself otherwise."""
    found = geo.commune(code)
    return f"{found.name} ({found.department})" if found else code


def _candidate(c: Commune) -> str:
    dept = geo.department_name(c.department) or c.department
    return f"{c.code} ({c.name}, {dept})"


@cache
def _by_exact_name() -> dict[str, tuple[Commune, ...]]:
    """Folded name (and name without its article) -> communes, most populated first."""
    index: dict[str, list[Commune]] = {}
    # Exact names only (ignoring case, accents, hyphens, "Saint"/"St" and a leading article),
    # folded exactly as the search folds them: a prefix or a partial match could put the
    # unit somewhere else.
    for name, bare, item in geo._search_index():
        for key in {name, bare}:
            index.setdefault(key, []).append(item)
    return {key: tuple(items) for key, items in index.items()}


@lru_cache(maxsize=4096)
def _exact(name: str, department: str | None) -> tuple[Commune, ...]:
    found = _by_exact_name().get(geo._normalize(name), ())
    return tuple(c for c in found if department is None or c.department == department)


@lru_cache(maxsize=1024)
def _suggestions(name: str, department: str | None) -> tuple[Commune, ...]:
    """Communes whose name starts with or contains the text (only when none has it exactly)."""
    return tuple(geo.search_communes(name, limit=_MAX_CANDIDATES, department=department))


def resolve(text: object, *, field: str = "commune") -> Commune:
    """The one commune designated by an INSEE code or an exact name, or a ValidationError.

    :raise ValidationError: empty text, unknown code, unknown name, or a name several
        communes share (the message lists them with their codes and departments).
    """
    value = str(text if text is not None else "").strip()
    if not value:
        raise ValidationError(_l("Indiquez la commune (code INSEE ou nom)."), field=field)
    if _CODE_LIKE.match(value):
        found = geo.commune(value)
        if found is None:
            raise ValidationError(_l("Code INSEE inconnu : %(code)s.", code=value), field=field)
        return found

    department = None
    match = _WITH_DEPARTMENT.match(value)
    if match:
        value, department = match["name"], match["dept"].upper()
        if geo.department_name(department) is None:
            raise ValidationError(
                _l("Département inconnu : %(dept)s.", dept=department), field=field
            )
    exact = _exact(value, department)
    if len(exact) == 1:
        return exact[0]
    if len(exact) > 1:
        shown = " ; ".join(_candidate(c) for c in exact[:_MAX_CANDIDATES])
        more = len(exact) - _MAX_CANDIDATES
        if more > 0:
            shown += " ; " + str(_l("et %(n)d autres", n=more))
        raise ValidationError(
            _l("Plusieurs communes s'appellent « %(name)s » : %(candidates)s. Indiquez le code INSEE.",
               name=value, candidates=shown),
            field=field,
        )
    candidates = _suggestions(value, department)
    if candidates:
        shown = " ; ".join(_candidate(c) for c in candidates)
        raise ValidationError(
            _l("Aucune commune ne s'appelle exactement « %(name)s ». Vouliez-vous dire : %(candidates)s ?",
               name=value, candidates=shown),
            field=field,
        )
    raise ValidationError(_l("Commune inconnue : %(name)s.", name=value), field=field)
