"""Photos of a unit, given by its landlord and shown with the unit on the offer board.

Stored as the platform re-encoded them (JPEG, at most `MAX_SIDE` pixels a side, no metadata:
a phone's EXIF carries the GPS position of wherever the picture was taken, the camera's
serial number, its owner's name), never as uploaded.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import sqlalchemy.orm as so

from models.base import Base, UTCDateTime, new_public_id, utcnow
from models.housing import Unit

CAPTION_MAX = 120


class UnitPhoto(Base):
    """One photo of a unit, with the caption that is its text alternative."""

    __tablename__ = "unit_photos"
    __table_args__ = (
        sa.CheckConstraint("width > 0 AND height > 0", name="size"),
        sa.CheckConstraint("position >= 0", name="position"),
        sa.Index("ix_unit_photos_unit_position", "unit_id", "position"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    public_id: so.Mapped[str] = so.mapped_column(sa.String(32), unique=True, default=lambda: new_public_id("F-"))
    unit_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("units.id", ondelete="CASCADE"))
    position: so.Mapped[int] = so.mapped_column(default=0)
    # What the photo shows, for those who cannot see it ("Séjour, vue sur le parc").
    caption: so.Mapped[str] = so.mapped_column(sa.String(CAPTION_MAX))
    content: so.Mapped[bytes] = so.mapped_column(sa.LargeBinary, deferred=True)
    width: so.Mapped[int]
    height: so.Mapped[int]
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    unit: so.Mapped[Unit] = so.relationship()
