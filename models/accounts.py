"""Organisations, their users, and API tokens."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import sqlalchemy.orm as so

from models.base import Base, EncryptedJSON, UTCDateTime, utcnow

ORGANISATION_KINDS = ("landlord", "association", "committee", "coordinator")
# `referrer`: a landlord's staff close to the tenants (caretaker, tenancy officer, social
# counsellor) who may refer a tenant in danger to an association, and see nothing else.
ROLES = ("landlord", "association", "committee", "coordinator", "admin", "referrer")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Organisation(Base):
    """A landlord, an association, a monitoring committee or a coordination team."""

    __tablename__ = "organisations"
    __table_args__ = (sa.CheckConstraint(_in("kind", ORGANISATION_KINDS), name="kind"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(20), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200), unique=True)
    # Short code used in matching instances ("L-01", "A-02").
    code: so.Mapped[str] = so.mapped_column(sa.String(40), unique=True)
    departments: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    contact_email: so.Mapped[str | None] = so.mapped_column(sa.String(254))
    contact_phone: so.Mapped[str | None] = so.mapped_column(sa.String(40))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    users: so.WriteOnlyMapped[User] = so.relationship(back_populates="organisation")

    def __repr__(self) -> str:
        return f"<Organisation {self.kind} {self.name!r}>"


class User(Base):
    """A person who logs in. No household is ever a user."""

    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint(_in("role", ROLES), name="role"),
        sa.CheckConstraint("email = lower(email)", name="email_lowercase"),
        sa.CheckConstraint("session_version >= 1", name="session_version_positive"),
        sa.CheckConstraint("failed_logins >= 0", name="failed_logins_positive"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    email: so.Mapped[str] = so.mapped_column(sa.String(254), unique=True)
    role: so.Mapped[str] = so.mapped_column(sa.String(20))
    organisation_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    password_hash: so.Mapped[str] = so.mapped_column(sa.String(255))
    active: so.Mapped[bool] = so.mapped_column(default=True)
    # Bumped on logout, password change and disabling: every older session cookie dies.
    session_version: so.Mapped[int] = so.mapped_column(default=1)
    # The TOTP shared secret, encrypted at rest like a household's safety fields. It is set
    # when enrolment starts and counts only once confirmed with a code (totp_confirmed_at).
    totp_secret: so.Mapped[str | None] = so.mapped_column(EncryptedJSON)
    totp_confirmed_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    # Time step of the last code accepted: the same code is never accepted twice.
    totp_last_step: so.Mapped[int | None] = so.mapped_column(sa.BigInteger)
    # Consecutive failures (password or code) since the last success, within a window.
    failed_logins: so.Mapped[int] = so.mapped_column(default=0)
    last_failed_login_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    locked_until: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    locale: so.Mapped[str] = so.mapped_column(sa.String(5), default="fr")
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    last_login_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)

    organisation: so.Mapped[Organisation | None] = so.relationship(back_populates="users")

    # Flask-Login protocol, kept here so that models stay framework-free.
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        # The session version is part of the id: a cookie from before a logout no longer loads.
        return f"{self.id}:{self.session_version}"

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class ApiToken(Base):
    """A bearer token for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    # First characters of the token, to tell tokens apart in a list.
    prefix: so.Mapped[str] = so.mapped_column(sa.String(12))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    last_used_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    revoked_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    # After this instant the token no longer works (NULL: a token made before expiry existed).
    expires_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)

    user: so.Mapped[User] = so.relationship()
