"""Organisations, users, passwords and API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from pathlib import Path

import sqlalchemy as sa
import sqlalchemy.orm as so
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l

from models import ApiToken, Organisation, User, utcnow
from models.accounts import ORGANISATION_KINDS, ROLES
from services import audit
from services.errors import Conflict, NotFound, ValidationError

PASSWORD_MIN, PASSWORD_MAX = 12, 128
# argon2id with the library's defaults (RFC 9106 "second recommended" profile).
_hasher = PasswordHasher()
# Verifying against this when the email is unknown costs the same time as a real check.
_DUMMY_HASH = _hasher.hash("not a real password, never matches")
_COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")

# Which kind of organisation each role belongs to.
ROLE_ORGANISATION_KIND = {
    "landlord": "landlord",
    "association": "association",
    "committee": "committee",
    "coordinator": "coordinator",
    "admin": None,  # any organisation, or none
}


def _common_passwords() -> frozenset[str]:
    if not _COMMON_PASSWORDS_FILE.exists():
        return frozenset()
    return frozenset(
        line.strip().lower() for line in _COMMON_PASSWORDS_FILE.read_text().splitlines()
    )


def check_password_policy(password: str) -> None:
    """Refuse a password that is too short, too long, or too common."""
    if len(password) < PASSWORD_MIN:
        raise ValidationError(
            _l("Le mot de passe doit compter au moins %(n)d caractères.", n=PASSWORD_MIN),
            field="password",
        )
    if len(password) > PASSWORD_MAX:
        raise ValidationError(
            _l("Le mot de passe doit compter au plus %(n)d caractères.", n=PASSWORD_MAX),
            field="password",
        )
    if password.lower() in _common_passwords():
        raise ValidationError(
            _l("Ce mot de passe est trop courant : choisissez-en un autre."), field="password"
        )


def hash_password(password: str) -> str:
    """An argon2id hash of a password that meets the policy."""
    check_password_policy(password)
    return _hasher.hash(password)


def normalise_email(email: str) -> str:
    """The canonical, lower-case form of an e-mail address, or a ValidationError."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValidationError(_l("Adresse e-mail invalide."), field="email") from exc


def create_organisation(
    session: so.Session,
    *,
    kind: str,
    name: str,
    departments: list[str] | None = None,
    code: str | None = None,
    contact_email: str | None = None,
    contact_phone: str | None = None,
) -> Organisation:
    """Add an organisation of a given kind."""
    if kind not in ORGANISATION_KINDS:
        raise ValidationError(_l("Type d'organisation inconnu : %(kind)s", kind=kind), field="kind")
    name = name.strip()
    if not name:
        raise ValidationError(_l("Le nom est obligatoire."), field="name")
    if session.scalar(sa.select(Organisation.id).where(Organisation.name == name)):
        raise Conflict(_l("Une organisation porte déjà ce nom : %(name)s", name=name), field="name")
    if code is None:
        prefix = {"landlord": "L", "association": "A", "committee": "C", "coordinator": "K"}[kind]
        count = session.scalar(
            sa.select(sa.func.count()).select_from(Organisation).where(Organisation.kind == kind)
        )
        code = f"{prefix}-{(count or 0) + 1:02d}"
        while session.scalar(sa.select(Organisation.id).where(Organisation.code == code)):
            code = f"{prefix}-{secrets.token_hex(3)}"
    org = Organisation(
        kind=kind,
        name=name,
        code=code,
        departments=sorted(set(departments or [])),
        contact_email=contact_email,
        contact_phone=contact_phone,
    )
    session.add(org)
    session.flush()
    return org


def get_organisation_by_name(session: so.Session, name: str) -> Organisation:
    """The organisation with this exact name."""
    org = session.scalar(sa.select(Organisation).where(Organisation.name == name.strip()))
    if org is None:
        raise NotFound(_l("Organisation inconnue : %(name)s", name=name), field="organisation")
    return org


def create_user(
    session: so.Session,
    *,
    email: str,
    role: str,
    password: str,
    organisation: Organisation | None,
    actor: User | None = None,
) -> User:
    """Add a user whose role fits the organisation's kind."""
    if role not in ROLES:
        raise ValidationError(_l("Rôle inconnu : %(role)s", role=role), field="role")
    expected = ROLE_ORGANISATION_KIND[role]
    if expected is not None and (organisation is None or organisation.kind != expected):
        raise ValidationError(
            _l("Le rôle %(role)s demande une organisation de type %(kind)s.", role=role, kind=expected),
            field="organisation",
        )
    email = normalise_email(email)
    if session.scalar(sa.select(User.id).where(User.email == email)):
        raise Conflict(_l("Un compte existe déjà pour cette adresse."), field="email")
    user = User(
        email=email,
        role=role,
        organisation=organisation,
        password_hash=hash_password(password),
    )
    session.add(user)
    session.flush()
    audit.record(session, "user.create", actor=actor, object_type="user", object_id=str(user.id))
    return user


def authenticate(session: so.Session, email: str, password: str) -> User | None:
    """The active user with these credentials, or None — the same None whatever was wrong."""
    try:
        email = normalise_email(email)
    except ValidationError:
        email = ""
    user = session.scalar(sa.select(User).where(User.email == email)) if email else None
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        if user is not None:
            user.failed_logins += 1
        audit.record(session, "login", actor=user, object_type="user",
                     object_id=str(user.id) if user else None, outcome="failure")
        return None
    if user is None or not user.active:
        audit.record(session, "login", actor=user, object_type="user",
                     object_id=str(user.id) if user else None, outcome="failure")
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.failed_logins = 0
    user.last_login_at = utcnow()
    audit.record(session, "login", actor=user, object_type="user", object_id=str(user.id))
    return user


def change_password(session: so.Session, user: User, current: str, new: str) -> None:
    """Replace the password after checking the current one; every other session ends."""
    try:
        _hasher.verify(user.password_hash, current)
    except (VerificationError, InvalidHashError) as exc:
        raise ValidationError(
            _l("Le mot de passe actuel est incorrect."), field="current_password"
        ) from exc
    user.password_hash = hash_password(new)
    end_sessions(user)
    audit.record(session, "user.password_change", actor=user, object_type="user",
                 object_id=str(user.id))


def end_sessions(user: User) -> None:
    """Invalidate every session cookie issued to this user so far."""
    user.session_version += 1


def set_active(session: so.Session, user: User, active: bool, *, actor: User | None) -> None:
    """Enable or disable an account; disabling ends its sessions and tokens at once."""
    user.active = active
    if not active:
        end_sessions(user)
    audit.record(session, "user.enable" if active else "user.disable", actor=actor,
                 object_type="user", object_id=str(user.id))


def load_session_user(session: so.Session, cookie_id: str) -> User | None:
    """The user a session cookie names, if that session is still valid."""
    try:
        user_id, version = (int(part) for part in cookie_id.split(":"))
    except ValueError:
        return None
    user = session.get(User, user_id)
    if user is None or not user.active or user.session_version != version:
        return None
    return user


def _token_hash(token: str) -> str:
    # Tokens are 256-bit random: a plain SHA-256 is enough, no slow hash needed.
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: so.Session, user: User) -> str:
    """A new API token for the user; only its hash is kept, so it is shown once."""
    token = "pst_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user=user, token_hash=_token_hash(token), prefix=token[:12]))
    session.flush()
    audit.record(session, "token.create", actor=user, object_type="user", object_id=str(user.id))
    return token


def user_for_token(session: so.Session, token: str) -> User | None:
    """The active user a bearer token belongs to, if the token is valid."""
    row = session.scalar(
        sa.select(ApiToken).where(
            ApiToken.token_hash == _token_hash(token), ApiToken.revoked_at.is_(None)
        )
    )
    if row is None or not row.user.active:
        return None
    now = utcnow()
    # Writing last_used_at on every call would serialise all API traffic on one row.
    if row.last_used_at is None or now - row.last_used_at > dt.timedelta(minutes=5):
        row.last_used_at = now
    return row.user


def get_user_by_email(session: so.Session, email: str) -> User:
    """The user with this e-mail address."""
    user = session.scalar(sa.select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise NotFound(_l("Aucun compte pour cette adresse."), field="email")
    return user
