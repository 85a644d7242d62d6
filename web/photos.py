"""Answering with a stored unit photo (the landlord's pages, the association's, the API)."""

from __future__ import annotations

from flask import Response

from models import UnitPhoto


def image(photo: UnitPhoto) -> Response:
    """The photo as a JPEG (signed-in answers are `no-store`, like every page: web/requests.py)."""
    return Response(photo.content, mimetype="image/jpeg")
