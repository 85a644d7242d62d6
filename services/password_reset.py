"""Password reset by e-mail, and invitations of new users (issue 21).

A link carries a signed token (itsdangerous, the platform's secret key, one salt per use):
the user's id and a fingerprint of her current password hash and session version. It is

- expiring: `max_age` (RESET_HOURS for a reset, INVITATION_DAYS for an invitation);
- single-use: setting the password changes the hash, so the fingerprint no longer matches
  (and any other link sent before dies with it);
- never a way around the second factor: the login after a reset still asks for the code.

Asking for a link answers the same whatever the address (an unknown one, a disabled
account): the page does not tell who has an account. The pages rate-limit the asking.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from models import Organisation, OutboxEmail, User
from services import accounts, audit, messages
from services.errors import ValidationError

RESET_HOURS = 1
INVITATION_DAYS = 7
PURPOSES = {"reset": ("passerelle-password-reset", RESET_HOURS * 3600),
            "invitation": ("passerelle-invitation", INVITATION_DAYS * 86400)}

EMAILS = {
    "reset": (
        _l("Réinitialiser votre mot de passe Passerelle"),
        _l("Bonjour,\n\nUne réinitialisation du mot de passe de votre compte Passerelle a été demandée. "
           "Pour choisir un nouveau mot de passe, ouvrez ce lien (valable %(hours)d heure, une seule fois) :\n"
           "%(link)s\n\nSi vous n'avez rien demandé, ignorez ce message : votre mot de passe reste le "
           "même.\n\nPasserelle"),
    ),
    "invitation": (
        _l("Votre compte Passerelle"),
        _l("Bonjour,\n\nUn compte Passerelle vient d'être ouvert pour vous. Pour choisir votre mot de passe, "
           "ouvrez ce lien (valable %(days)d jours, une seule fois) :\n%(link)s\n\nPasserelle"),
    ),
}
INVALID_LINK = _l("Ce lien n'est plus valable (il a expiré ou a déjà servi) : demandez-en un nouveau.")


def _fingerprint(user: User) -> str:
    return hashlib.sha256(f"{user.password_hash}:{user.session_version}".encode()).hexdigest()[:32]


def _serializer(secret_key: str, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=PURPOSES[purpose][0])


def make_token(user: User, secret_key: str, purpose: str = "reset") -> str:
    """A signed link token for this user and purpose."""
    return str(_serializer(secret_key, purpose).dumps({"u": user.id, "f": _fingerprint(user)}))


def user_for_token(session: so.Session, token: str, secret_key: str, purpose: str = "reset") -> User | None:
    """The active user a valid, unexpired, unused token names; None otherwise."""
    try:
        data: Any = _serializer(secret_key, purpose).loads(token, max_age=PURPOSES[purpose][1])
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    user = session.get(User, data["u"])
    if user is None or not user.active or _fingerprint(user) != data.get("f"):
        return None
    return user


def _queue(session: so.Session, user: User, purpose: str, link: str) -> OutboxEmail:
    subject, body = EMAILS[purpose]
    with force_locale(user.locale or messages.DEFAULT_LOCALE):
        row = OutboxEmail(recipient=user.email, subject=str(subject),
                          body=str(body) % {"link": link, "hours": RESET_HOURS, "days": INVITATION_DAYS})
    session.add(row)
    return row


def request_reset(session: so.Session, email: str, *, secret_key: str, link_for: Any) -> None:
    """E-mail a reset link to the active account of this address, if there is one (the caller
    answers the same either way). `link_for(token)` makes the absolute link."""
    try:
        address = accounts.normalise_email(email or "")
    except ValidationError:
        return
    user = session.scalar(sa.select(User).where(User.email == address))
    if user is None or not user.active:
        return
    _queue(session, user, "reset", link_for(make_token(user, secret_key, "reset")))
    audit.record(session, "user.password_reset_request", actor=None, object_type="user", object_id=str(user.id))


def invite(session: so.Session, *, email: str, role: str, organisation: Organisation | None,
           actor: User | None, secret_key: str, link_for: Any) -> User:
    """Open an account and e-mail its owner the link to choose her password (valid
    INVITATION_DAYS). Until then the account has a random password nobody knows.

    :raise ValidationError, Conflict: as `services.accounts.create_user`.
    """
    user = accounts.create_user(session, email=email, role=role, password=secrets.token_urlsafe(32),
                                organisation=organisation, actor=actor)
    _queue(session, user, "invitation", link_for(make_token(user, secret_key, "invitation")))
    audit.record(session, "user.invite", actor=actor, object_type="user", object_id=str(user.id))
    return user


def set_password(session: so.Session, token: str, password: str, *, secret_key: str,
                 purpose: str = "reset") -> User:
    """Set the password a valid link allows (the link then dies); every session and API token
    of the account ends, its failed-login lock is lifted.

    :raise ValidationError: the link is not valid (field ``token``), or the password breaks
        the policy (field ``password``).
    """
    user = user_for_token(session, token, secret_key, purpose)
    if user is None:
        raise ValidationError(INVALID_LINK, field="token")
    user.password_hash = accounts.hash_password(password)
    accounts.end_sessions(user)
    accounts.revoke_tokens(session, user)
    accounts.unlock(session, user, actor=user)
    audit.record(session, f"user.password_{purpose}", actor=user, object_type="user", object_id=str(user.id))
    session.flush()
    return user
