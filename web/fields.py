"""Form fields that read and write numbers the reader's way (issue 21: "30.0" in a French form).

WTForms' DecimalField shows `30.0` and refuses `30,5`. A French reader types "30,5" (and
maybe "1 200"); an English one "30.5". The field shows its value in the request's language
(services.messages.number) and accepts either separator, spaces ignored.
"""

from __future__ import annotations

import decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import DecimalField

from services import messages

SPACES = (" ", "\u00a0", "\u202f")


class LocalDecimalField(DecimalField):
    """A decimal number, shown as "30,5" in French and "30.5" in English, read either way."""

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])  # what she typed, as she typed it, to correct it
        if self.data is None:
            return ""
        return messages.number(self.data, self.places if self.places is not None else 2)

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        text = str(valuelist[0])
        for space in SPACES:
            text = text.replace(space, "")
        if not text:
            self.data = None
            return
        try:
            self.data = decimal.Decimal(text.replace(",", "."))
        except (decimal.InvalidOperation, ValueError):
            self.data = None
            raise ValueError(_l("Nombre attendu, par exemple 30 ou 30,5.")) from None

    def post_validate(self, form: Any, validation_stopped: bool) -> None:
        # DataRequired empties the errors and says "required" when a word was typed: the
        # real reason is that it is no number.
        if self.process_errors:
            self.errors = list(self.process_errors)


def place_errors(form: Any, errors: dict[str, Any], names: Any) -> list[str]:
    """A service's messages next to the form's fields (those in `names`); return the others."""
    general: list[str] = []
    for name, said in errors.items():
        words = [str(m) for m in (said if isinstance(said, list) else [said])]
        field = getattr(form, name, None) if name in names else None
        if field is None:
            general.extend(words)
        else:
            field.errors = [*field.errors, *words]
    return general
