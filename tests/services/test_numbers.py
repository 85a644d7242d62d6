"""One number parser: a rent and an income written the same way are read the same way."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services import households, units
from services.errors import ValidationError
from tests.services.test_units import TODAY, good


@pytest.fixture(autouse=True)
def _app_context(app):
    with app.app_context():
        yield


def _rent(text):
    return units.validate_unit_fields(good(rent=text), today=TODAY)["rent"]


def _income(text):
    return households.validate_household_fields({"monthly_income": text}, partial=True, text=True)["monthly_income"]


@pytest.mark.parametrize(("text", "amount"), [
    ("1.234,50", Decimal("1234.50")), ("1 234,50 €", Decimal("1234.50")), ("1234.5", Decimal("1234.50")),
    ("1,234.50", Decimal("1234.50")), ("1\u202f234,5", Decimal("1234.50")), ("812", Decimal("812.00")),
])
def test_a_rent_and_an_income_accept_the_same_writings(text, amount):
    assert _rent(text) == amount
    assert _income(text) == amount


@pytest.mark.parametrize("text", ["1e3", "abc", "4,5,6", "12,5%", "nan"])
def test_a_rent_and_an_income_refuse_the_same_writings(text):
    with pytest.raises(ValidationError):
        _rent(text)
    with pytest.raises(ValidationError):
        _income(text)
