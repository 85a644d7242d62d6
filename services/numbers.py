"""One number parser: rents, charges, incomes, surfaces as people write them.

"48,5", "1 234,50 €", "1.234,50" (French thousands), "1,234.50" (English thousands) and
"48.5" are the same kind of number everywhere: the unit form and import, the household
form, the API. "1e5", "nan", "12,5%" and "4,5,6" are refused everywhere.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation


def parse_decimal(value: object) -> Decimal:
    """A number written the French way ("48,5", "1 234,50 €") or the English way ("48.5").

    :raise ValueError: not a number.
    """
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(float(value)))  # float() also for numpy's float64
    text = str(value).strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    text = text.removesuffix("€").removesuffix("m²").removesuffix("m2")
    if "," in text and "." in text:
        # "1.234,50" (French thousands) or "1,234.50" (English thousands).
        if text.rfind(",") > text.rfind("."):
            text = text.replace(".", "").replace(",", ".")
        else:
            text = text.replace(",", "")
    else:
        text = text.replace(",", ".")
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", text):
        raise ValueError(value)
    try:
        number = Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the pattern above rules it out
        raise ValueError(value) from exc
    return number


def parse_int(value: object) -> int:
    """A whole number ("3", 3, 3.0 from a spreadsheet).

    :raise ValueError: not a whole number.
    """
    number = parse_decimal(value)
    if number != number.to_integral_value():
        raise ValueError(value)
    return int(number)
