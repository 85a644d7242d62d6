"""Organisations, users, passwords and API tokens."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import re
import secrets
import unicodedata
from pathlib import Path
from typing import Any, cast

import pyotp
import sqlalchemy as sa
import sqlalchemy.orm as so
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l

from models import ApiToken, Organisation, User, utcnow
from models.accounts import ORGANISATION_KINDS, ROLES
from services import audit
from services.errors import Conflict, Forbidden, NotFound, ValidationError
from services.paging import Page, paginate

PASSWORD_MIN, PASSWORD_MAX = 12, 128
# argon2id with the library's defaults (RFC 9106 "second recommended" profile).
_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verifying against this when the email is unknown costs the same time as a real check.

    Computed at the first login, not at import: an argon2 hash costs every process (CLI,
    workers) a second of CPU and 64 MB.
    """
    return _hasher.hash("not a real password, never matches")


_COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")

# Repeated failures (password or second-factor code) lock the account for a while: after
# MAX_FAILURES within FAILURE_WINDOW, nobody can log in to it for LOCK_DURATION, whatever
# the password. The answer stays the generic one, so the lock reveals nothing either.
MAX_FAILURES = 5
FAILURE_WINDOW = dt.timedelta(minutes=15)
LOCK_DURATION = dt.timedelta(minutes=15)

# Roles that see many households or steer the platform: a second factor is mandatory.
TOTP_REQUIRED_ROLES = frozenset({"coordinator", "committee", "admin"})
TOTP_ISSUER = "Passerelle"

# Which kind of organisation each role belongs to.
ROLE_ORGANISATION_KIND = {
    "landlord": "landlord",
    "association": "association",
    "committee": "committee",
    "coordinator": "coordinator",
    "admin": None,  # any organisation, or none
    "referrer": "landlord",
}


@functools.cache
def _common_passwords() -> frozenset[str]:
    """The list of common passwords; a missing list is an error, never an empty set.

    An empty set would let `azertyuiop123` through without a word (a wheel built without
    the file did exactly that): the app loads the list at start (web.create_app) and fails.
    """
    if not _COMMON_PASSWORDS_FILE.is_file():
        raise RuntimeError(f"The common-password list is missing: {_COMMON_PASSWORDS_FILE} "
                           "(it ships with the package: reinstall Passerelle).")
    return frozenset(
        line.strip().lower()
        for line in _COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    )


# A common word padded with digits or symbols ("azertyuiop123456", "motdepasse!!") is as weak.
_PADDING = re.compile(r"^[\W\d_]*(.*?)[\W\d_]*$")


def load_common_passwords() -> int:
    """Load the common-password list now (at start); raises RuntimeError when it is missing."""
    return len(_common_passwords())


def is_common_password(password: str) -> bool:
    """True when the password, or its core without leading/trailing digits and symbols, is common."""
    common = _common_passwords()
    lowered = password.lower()
    core = _PADDING.match(lowered).group(1)  # type: ignore[union-attr]
    return lowered in common or (bool(core) and core in common) or len(set(lowered)) <= 2


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
    if is_common_password(password):
        raise ValidationError(
            _l("Ce mot de passe est trop courant : choisissez-en un autre."), field="password"
        )


def hash_password(password: str) -> str:
    """An argon2id hash of a password that meets the policy."""
    check_password_policy(password)
    return _hasher.hash(password)


def email_key(email: str) -> str:
    """The spelling-independent key of an address (rate limits): NFKC, casefolded, stripped.

    Full-width letters ("ａｌｉｃｅ"), compatibility forms and case all give one key, so an
    attacker cannot earn a fresh rate-limit bucket by respelling the same address.
    """
    return unicodedata.normalize("NFKC", email or "").casefold().strip()


def normalise_email(email: str) -> str:
    """The canonical, lower-case form of an e-mail address (after NFKC), or a ValidationError."""
    try:
        # NFKC first: a full-width spelling of an address is that address, not a new account.
        email = unicodedata.normalize("NFKC", email or "").strip()
        return validate_email(email, check_deliverability=False).normalized.lower()
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


def is_locked(user: User, now: dt.datetime | None = None) -> bool:
    """True while the account is locked after repeated failures."""
    return user.locked_until is not None and user.locked_until > (now or utcnow())


def register_failure(session: so.Session, user: User, now: dt.datetime | None = None) -> None:
    """Count one failed attempt on this account; the MAX_FAILURES-th within the window locks it.

    One conditional UPDATE ... RETURNING computes the count in the database: concurrent
    failures each add one (read-modify-write in Python lost updates: ten wrong passwords at
    once counted as one or two and never locked). A locked account counts nothing more.
    """
    now = now or utcnow()
    stale = sa.or_(User.last_failed_login_at.is_(None), User.last_failed_login_at < now - FAILURE_WINDOW)
    count = sa.case((stale, 1), else_=User.failed_logins + 1)
    row = session.execute(
        sa.update(User)
        .where(User.id == user.id, sa.or_(User.locked_until.is_(None), User.locked_until <= now))
        .values(failed_logins=count, last_failed_login_at=now,
                locked_until=sa.case((count >= MAX_FAILURES, now + LOCK_DURATION), else_=User.locked_until))
        .returning(User.failed_logins)
        .execution_options(synchronize_session=False)
    ).first()
    session.expire(user, ["failed_logins", "last_failed_login_at", "locked_until"])
    if row is not None and row[0] >= MAX_FAILURES:
        # The WHERE saw it unlocked, so this very update locked it.
        audit.record(session, "user.lock", actor=None, object_type="user", object_id=str(user.id))


def _fresh_lock_state(session: so.Session, user: User) -> None:
    """Re-read the lock columns under a row lock: the decision uses the committed count."""
    session.refresh(user, ["failed_logins", "last_failed_login_at", "locked_until"], with_for_update=True)


def _clear_failures(user: User) -> None:
    user.failed_logins = 0
    user.last_failed_login_at = None
    user.locked_until = None


def authenticate(session: so.Session, email: str, password: str,
                 now: dt.datetime | None = None) -> User | None:
    """The active user with these credentials, or None — the same None whatever was wrong.

    When the user has a second factor, the caller must still ask for a code
    (`verify_totp`) before opening a session.
    """
    now = now or utcnow()
    try:
        email = normalise_email(email)
    except ValidationError:
        email = ""
    user = session.scalar(sa.select(User).where(User.email == email)) if email else None
    object_id = str(user.id) if user else None
    try:
        # Always verify, even for an unknown or locked account: the answer takes the same time.
        _hasher.verify(user.password_hash if user else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        if user is not None:
            register_failure(session, user, now)
        audit.record(session, "login", actor=user, object_type="user", object_id=object_id,
                     outcome="failure")
        return None
    if user is None or not user.active:
        audit.record(session, "login", actor=user, object_type="user", object_id=object_id,
                     outcome="failure")
        return None
    # The row read before the (slow) password check may be stale: failures committed since
    # by concurrent attempts count, and none can slip in until this transaction ends.
    _fresh_lock_state(session, user)
    if is_locked(user, now):
        # The right password does not open a locked account: a guesser learns nothing.
        audit.record(session, "login", actor=user, object_type="user", object_id=object_id,
                     outcome="denied")
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    if has_totp(user):
        # Half-way: the password is right, the code is still to come.
        audit.record(session, "login.password", actor=user, object_type="user", object_id=object_id)
        return user
    complete_login(session, user, now)
    return user


def complete_login(session: so.Session, user: User, now: dt.datetime | None = None) -> None:
    """Record a successful login (after the password, and the code when there is one)."""
    _clear_failures(user)
    user.last_login_at = now or utcnow()
    audit.record(session, "login", actor=user, object_type="user", object_id=str(user.id))


# --- Second factor (TOTP, RFC 6238) -------------------------------------------------------


def has_totp(user: User) -> bool:
    """True when the user has a confirmed second factor."""
    return user.totp_secret is not None and user.totp_confirmed_at is not None


def needs_totp_enrolment(user: User) -> bool:
    """True when the role requires a second factor that the user has not set up yet."""
    return user.role in TOTP_REQUIRED_ROLES and not has_totp(user)


def start_totp_enrolment(session: so.Session, user: User) -> str:
    """The secret to show during enrolment: a new one, or the one of an unfinished enrolment."""
    if has_totp(user):
        raise Conflict(_l("La double authentification est déjà activée."), field="code")
    if user.totp_secret is None:
        user.totp_secret = pyotp.random_base32()
        user.totp_last_step = None
        session.flush()
    return user.totp_secret


def totp_uri(user: User, secret: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=TOTP_ISSUER)


def _matching_step(secret: str, code: str, last_step: int | None, now: dt.datetime) -> int | None:
    """The time step whose code this is (one step of clock drift allowed), never a used one."""
    code = re.sub(r"\s", "", code or "")
    if not re.fullmatch(r"\d{6}", code):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in (current - 1, current, current + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def confirm_totp_enrolment(session: so.Session, user: User, code: str,
                           now: dt.datetime | None = None) -> None:
    """Turn the second factor on once the user proves her app shows the right code."""
    now = now or utcnow()
    if user.totp_secret is None or has_totp(user):
        raise Conflict(_l("Aucune activation en cours."), field="code")
    step = _matching_step(user.totp_secret, code, None, now)
    if step is None:
        audit.record(session, "user.totp_enrol", actor=user, object_type="user",
                     object_id=str(user.id), outcome="failure")
        raise ValidationError(_l("Code incorrect : vérifiez l'heure de votre téléphone et réessayez."),
                              field="code")
    user.totp_confirmed_at = now
    user.totp_last_step = step
    audit.record(session, "user.totp_enrol", actor=user, object_type="user", object_id=str(user.id))


def verify_totp(session: so.Session, user: User, code: str, now: dt.datetime | None = None) -> bool:
    """Check the second-factor code of a login; failures count towards the account lock."""
    now = now or utcnow()
    if user.active and has_totp(user):
        _fresh_lock_state(session, user)
    if not user.active or not has_totp(user) or is_locked(user, now):
        audit.record(session, "login", actor=user, object_type="user", object_id=str(user.id),
                     outcome="denied")
        return False
    step = _matching_step(user.totp_secret or "", code, user.totp_last_step, now)
    if step is None:
        register_failure(session, user, now)
        audit.record(session, "login.code", actor=user, object_type="user", object_id=str(user.id),
                     outcome="failure")
        return False
    user.totp_last_step = step
    complete_login(session, user, now)
    return True


def disable_totp(session: so.Session, user: User, code: str, now: dt.datetime | None = None) -> None:
    """Turn off an optional second factor, with a current code as proof."""
    if user.role in TOTP_REQUIRED_ROLES:
        raise Forbidden(_l("La double authentification est obligatoire pour votre rôle."), field="code")
    now = now or utcnow()
    if not has_totp(user) or _matching_step(user.totp_secret or "", code, user.totp_last_step, now) is None:
        raise ValidationError(_l("Code incorrect."), field="code")
    user.totp_secret = None
    user.totp_confirmed_at = None
    user.totp_last_step = None
    audit.record(session, "user.totp_disable", actor=user, object_type="user", object_id=str(user.id))


def reset_totp(session: so.Session, user: User, *, actor: User | None) -> None:
    """Remove a user's second factor (lost phone): she enrols again at her next login."""
    user.totp_secret = None
    user.totp_confirmed_at = None
    user.totp_last_step = None
    end_sessions(user)
    revoke_tokens(session, user)
    audit.record(session, "user.totp_reset", actor=actor, object_type="user", object_id=str(user.id))


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
    # Whoever knew the old password may have made a token with it: none survives.
    revoke_tokens(session, user)
    audit.record(session, "user.password_change", actor=user, object_type="user",
                 object_id=str(user.id))


def end_sessions(user: User) -> None:
    """Invalidate every session cookie issued to this user so far."""
    user.session_version += 1


def set_active(session: so.Session, user: User, active: bool, *, actor: User | None) -> None:
    """Enable or disable an account; disabling ends its sessions and tokens at once."""
    if actor is not None and actor.id == user.id and not active:
        raise Forbidden(_l("Vous ne pouvez pas désactiver votre propre compte."), field="active")
    user.active = active
    if not active:
        end_sessions(user)
        # Revoked, not merely unusable while disabled: re-enabling brings none back.
        revoke_tokens(session, user)
    else:
        _clear_failures(user)
    audit.record(session, "user.enable" if active else "user.disable", actor=actor,
                 object_type="user", object_id=str(user.id))


def unlock(session: so.Session, user: User, *, actor: User | None) -> None:
    """Lift a lock after repeated failures before it expires (the user proved who she is)."""
    _clear_failures(user)
    audit.record(session, "user.unlock", actor=actor, object_type="user", object_id=str(user.id))


def list_users(session: so.Session, *, query: str | None = None, role: str | None = None,
               page: int = 1, per_page: int = 25) -> Page[User]:
    """One page of accounts, by e-mail, optionally filtered by part of the e-mail and by role."""
    stmt = sa.select(User).order_by(User.email, User.id)
    if query:
        stmt = stmt.where(User.email.contains(query.strip().lower(), autoescape=True))
    if role:
        stmt = stmt.where(User.role == role)
    return paginate(session, stmt, page, per_page)


def get_user(session: so.Session, user_id: int) -> User:
    """The user with this id."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(_l("Compte introuvable."), field="id")
    return user


def change_role(session: so.Session, user: User, role: str, *, actor: User | None) -> None:
    """Give a user another role that fits her organisation; her sessions end (new rights)."""
    if role not in ROLES:
        raise ValidationError(_l("Rôle inconnu : %(role)s", role=role), field="role")
    if actor is not None and actor.id == user.id:
        raise Forbidden(_l("Vous ne pouvez pas changer votre propre rôle."), field="role")
    expected = ROLE_ORGANISATION_KIND[role]
    if expected is not None and (user.organisation is None or user.organisation.kind != expected):
        raise ValidationError(
            _l("Le rôle %(role)s demande une organisation de type %(kind)s.", role=role, kind=expected),
            field="role",
        )
    if role == user.role:
        return
    user.role = role
    end_sessions(user)
    audit.record(session, "user.role_change", actor=actor, object_type="user", object_id=str(user.id))


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


DEFAULT_TOKEN_LIFETIME_DAYS = 90


def create_token(session: so.Session, user: User, *,
                 lifetime_days: int = DEFAULT_TOKEN_LIFETIME_DAYS) -> str:
    """A new API token for the user, valid `lifetime_days`; only its hash is kept (shown once).

    A user whose role requires a second factor gets a token only once it is set up: a token
    is a way in without the code, so it must belong to someone who passed it.
    """
    if not user.active:
        raise Forbidden(_l("Ce compte est désactivé."), field="email")
    if needs_totp_enrolment(user):
        raise Forbidden(_l("Activez d'abord la double authentification : elle est obligatoire pour ce rôle."),
                        field="email")
    token = "pst_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user=user, token_hash=_token_hash(token), prefix=token[:12],
                         expires_at=utcnow() + dt.timedelta(days=lifetime_days)))
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
    now = utcnow()
    if row is None or not row.user.active:
        return None
    if row.expires_at is not None and row.expires_at <= now:
        return None
    if needs_totp_enrolment(row.user):
        # Her second factor was reset (or her role now requires one): no way around the code.
        return None
    # Writing last_used_at on every call would serialise all API traffic on one row.
    if row.last_used_at is None or now - row.last_used_at > dt.timedelta(minutes=5):
        row.last_used_at = now
    return row.user


def revoke_tokens(session: so.Session, user: User) -> int:
    """Revoke every live token of the user; how many."""
    # Session.execute is typed as returning a Result; for an UPDATE it is a CursorResult.
    result = cast("sa.CursorResult[Any]", session.execute(
        sa.update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow()).execution_options(synchronize_session=False)
    ))
    count = int(result.rowcount or 0)
    if count:
        audit.record(session, "token.revoke", actor=None, object_type="user", object_id=str(user.id))
    return count


def list_tokens(session: so.Session, user: User) -> list[ApiToken]:
    """The user's tokens, newest first (revoked and expired ones included, marked as such)."""
    return list(session.scalars(
        sa.select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    ))


def revoke_token(session: so.Session, user: User, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens (another user's answers NotFound)."""
    row = session.scalar(sa.select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id))
    if row is None:
        raise NotFound(_l("Jeton introuvable."), field="id")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit.record(session, "token.revoke", actor=user, object_type="user", object_id=str(user.id))
    session.flush()
    return row


def get_user_by_email(session: so.Session, email: str) -> User:
    """The user with this e-mail address."""
    user = session.scalar(sa.select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise NotFound(_l("Aucun compte pour cette adresse."), field="email")
    return user
