"""Notifications inside the platform and e-mails through an outbox.

An e-mail never says anything about a unit or a household: no address, no commune, no
size, not even the proposal's id. It only says that something waits on Passerelle and
gives a link to the recipient's list page. This is enforced by construction: the subject
and body come from a fixed set of texts (`EMAILS`), and the only variable part is a path
chosen here, never by the caller.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import smtplib
import ssl
from collections.abc import Callable, Iterable
from email.message import EmailMessage
from typing import Any, cast

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from models import Notification, Organisation, OutboxEmail, User, utcnow
from services import messages

log = logging.getLogger(__name__)


# The page each kind of organisation reads its proposals on.
PROPOSALS_PATH = {"association": "/association/propositions", "landlord": "/bailleur/propositions",
                  "coordinator": "/coordination/"}

# Every e-mail the platform can send. Nothing else is ever put in a subject or a body.
EMAILS: dict[str, tuple[Any, Any]] = {
    "new_proposal": (
        _l("Une nouvelle proposition vous attend sur Passerelle"),
        _l("Bonjour,\n\nUne nouvelle proposition vous attend sur Passerelle :\n%(link)s\n\n"
           "Ce message ne contient volontairement aucune information sur le logement ni sur "
           "le ménage.\n\nPasserelle"),
    ),
    "proposal_update": (
        _l("Une proposition a évolué sur Passerelle"),
        _l("Bonjour,\n\nUne proposition que vous suivez a évolué sur Passerelle :\n%(link)s\n\n"
           "Ce message ne contient volontairement aucune information sur le logement ni sur "
           "le ménage.\n\nPasserelle"),
    ),
    # A step waits on you (services.worklists.send_reminders).
    "reminder": (
        _l("Rappel : une proposition attend votre réponse sur Passerelle"),
        _l("Bonjour,\n\nUne proposition attend votre réponse ou celle de votre commission sur "
           "Passerelle :\n%(link)s\n\nCe message ne contient volontairement aucune information sur "
           "le logement ni sur le ménage.\n\nPasserelle"),
    ),
    # A rehoused woman must move again at once (services.transfers): the coordination is told.
    "transfer": (
        _l("Mutation urgente demandée sur Passerelle"),
        _l("Bonjour,\n\nUne association a rouvert le dossier d'un ménage relogé pour une mutation "
           "urgente, en urgence immédiate :\n%(link)s\n\nCe message ne contient volontairement aucune "
           "information sur le logement ni sur le ménage.\n\nPasserelle"),
    ),
    # A household of the association is sheltered in an emergency place (services.shelter).
    "placement": (
        _l("Mise à l'abri enregistrée sur Passerelle"),
        _l("Bonjour,\n\nLa coordination a mis à l'abri un ménage que vous accompagnez, dans une place "
           "d'urgence :\n%(link)s\n\nCe message ne contient volontairement aucune information sur le "
           "logement ni sur le ménage.\n\nPasserelle"),
    ),
}


def _render(text: Any, locale: str | None = None) -> str:
    """A lazy message as a string in the given language (the platform's first by default)."""
    with force_locale(locale or messages.DEFAULT_LOCALE):
        return str(text)


def notify(session: so.Session, *, message: Any, link: str | None = None,
           organisation: Organisation | None = None, user: User | None = None) -> Notification:
    """Add a notification for a user or for every user of an organisation.

    `message` is a lazy string (`_l("... %(id)s ...", id=...)`): its msgid and parameters are
    kept, and it is translated when read, in the reader's language.
    """
    if organisation is None and user is None:
        raise ValueError("a notification needs a recipient")
    if link is not None and not link.startswith("/"):
        raise ValueError("a notification links inside the platform only")
    # Stored untranslated: each reader gets it in her language (services.messages).
    msgid, params = messages.deferred(message)
    row = Notification(organisation=organisation, user=user, msgid=msgid, params=params, link=link)
    session.add(row)  # inserted with the others at the next flush (a cancellation makes dozens)
    return row


def _recipients(session: so.Session, organisation: Organisation) -> list[User]:
    """The active users of an organisation whose role matches its kind."""
    return list(session.scalars(
        sa.select(User).where(User.organisation_id == organisation.id, User.active.is_(True),
                              User.role == organisation.kind).order_by(User.id)
    ))


def _already_emailed(session: so.Session, organisation: Organisation, kind: str) -> bool:
    """Whether this transaction already queued this kind of e-mail to this organisation (and
    note that it now has): the e-mails say only "something changed, see the platform", so a
    commission's decision that cancels twenty offers sends one, not twenty identical ones."""
    transaction = session.get_transaction()
    noted: tuple[so.SessionTransaction | None, set[tuple[int, str]]] | None = session.info.get("emailed")
    if noted is None or noted[0] is not transaction:
        noted = session.info["emailed"] = (transaction, set())
    key = (organisation.id, kind)
    if key in noted[1]:
        return True
    noted[1].add(key)
    return False


def email_organisation(session: so.Session, organisation: Organisation, kind: str,
                       *, base_url: str = "") -> list[OutboxEmail]:
    """Queue one e-mail of a fixed kind to each active user of the organisation (once per
    transaction and kind)."""
    if _already_emailed(session, organisation, kind):
        return []
    subject, body = EMAILS[kind]
    link = base_url.rstrip("/") + PROPOSALS_PATH.get(organisation.kind, "/")
    rows = []
    for user in _recipients(session, organisation):
        row = OutboxEmail(recipient=user.email, subject=_render(subject, user.locale),
                          body=_render(body, user.locale) % {"link": link})
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def tell(session: so.Session, organisation: Organisation, message: Any, link: str | None,
         *, email: str | None = None, base_url: str = "") -> None:
    """Notify an organisation inside the platform and, if `email` names a kind, by e-mail."""
    notify(session, organisation=organisation, message=message, link=link)
    if email:
        email_organisation(session, organisation, email, base_url=base_url)


def proposals_released(session: so.Session, organisations: Iterable[Organisation],
                       *, base_url: str = "") -> None:
    """Tell associations and landlords that new proposals wait for them (called on release)."""
    seen: set[int] = set()
    for org in organisations:
        if org.id in seen:
            continue
        seen.add(org.id)
        tell(session, org, _l("De nouvelles propositions vous attendent."),
             PROPOSALS_PATH.get(org.kind), email="new_proposal", base_url=base_url)


def _visible_to(user: User) -> sa.ColumnElement[bool]:
    clauses = [Notification.user_id == user.id]
    if user.organisation_id is not None:
        clauses.append(Notification.organisation_id == user.organisation_id)
    return sa.or_(*clauses)


def for_user(session: so.Session, user: User, limit: int = 50) -> list[Notification]:
    """The user's own notifications and her organisation's, newest first."""
    return list(session.scalars(
        sa.select(Notification).where(_visible_to(user))
        .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)
    ))


# The association's pages a notification may link to, and the record each names.
_ASSOCIATION_LINKS = re.compile(r"^/association/(propositions|menages|suivi)/([A-Za-z0-9_-]+)$")


def households_named(session: so.Session, user: User, items: Iterable[Notification]) -> dict[int, str]:
    """For an association's user: the reference of her own household each notification is
    about (its link's proposal, household or checkpoint), so that the list says which one.
    Only her association's references are read; any other reader gets nothing."""
    from models import Checkpoint, Household, Proposal

    if user.role != "association" or user.organisation_id is None:
        return {}
    wanted: dict[str, dict[str, list[int]]] = {"propositions": {}, "menages": {}, "suivi": {}}
    for n in items:
        found = _ASSOCIATION_LINKS.match(n.link or "")
        if found:
            wanted[found[1]].setdefault(found[2], []).append(n.id)
    own = Household.association_id == user.organisation_id
    queries = {
        "propositions": sa.select(Proposal.public_id, Household.reference)
        .join(Household, Household.id == Proposal.household_id),
        "menages": sa.select(Household.public_id, Household.reference),
        "suivi": sa.select(Checkpoint.public_id, Household.reference)
        .join(Household, Household.id == Checkpoint.household_id),
    }
    keys = {"propositions": Proposal.public_id, "menages": Household.public_id, "suivi": Checkpoint.public_id}
    named: dict[int, str] = {}
    for kind, ids in wanted.items():
        if not ids:
            continue
        for public_id, reference in session.execute(queries[kind].where(own, keys[kind].in_(sorted(ids)))):
            for notification_id in ids[public_id]:
                named[notification_id] = reference
    return named


def unread_count(session: so.Session, user: User) -> int:
    """How many of the user's notifications are unread."""
    return session.scalar(
        sa.select(sa.func.count()).select_from(Notification)
        .where(_visible_to(user), Notification.read_at.is_(None))
    ) or 0


def mark_all_read(session: so.Session, user: User) -> int:
    """Mark every notification the user sees as read; how many were unread."""
    # Session.execute is typed as returning a Result; for an UPDATE it is a CursorResult.
    result = cast("sa.CursorResult[Any]", session.execute(
        sa.update(Notification).where(_visible_to(user), Notification.read_at.is_(None))
        .values(read_at=utcnow()).execution_options(synchronize_session=False)
    ))
    return result.rowcount or 0


class SmtpSender:
    """Sends outbox e-mails through the configured SMTP server, one connection per batch.

    The server's certificate is always checked (``ssl.create_default_context()``, with
    ``MAIL_CA_FILE`` for a private authority): STARTTLS (``MAIL_USE_TLS``, port 587) or
    implicit TLS (``MAIL_USE_SSL``, SMTPS on 465). A self-signed or wrong-host certificate
    fails the e-mail (it stays in the outbox for a retry) instead of handing the
    referents' messages to whoever answers. The connection opens at the first e-mail and is
    reused for the batch; a failure drops it so that the next e-mail reconnects.
    """

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self._smtp: smtplib.SMTP | None = None

    def _tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.config.get("MAIL_CA_FILE") or None)

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        use_ssl = bool(config.get("MAIL_USE_SSL"))
        port = int(config.get("MAIL_PORT") or (465 if use_ssl else 25))
        smtp: smtplib.SMTP
        if use_ssl:
            smtp = smtplib.SMTP_SSL(config["MAIL_SERVER"], port, timeout=30, context=self._tls_context())
        else:
            smtp = smtplib.SMTP(config["MAIL_SERVER"], port, timeout=30)
        try:
            if not use_ssl and config.get("MAIL_USE_TLS"):
                smtp.starttls(context=self._tls_context())
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def __call__(self, row: OutboxEmail) -> None:
        msg = EmailMessage()
        msg["From"] = self.config.get("MAIL_DEFAULT_SENDER") or "passerelle@localhost"
        msg["To"] = row.recipient
        msg["Subject"] = row.subject
        msg.set_content(row.body)
        if self._smtp is None:
            self._smtp = self._connect()
        try:
            self._smtp.send_message(msg)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """End the batch: say QUIT and close the connection (if one is open)."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()


def smtp_sender(config: dict[str, Any]) -> SmtpSender:
    """A callable that sends outbox e-mails through the configured SMTP server (close() it after)."""
    return SmtpSender(config)


def log_sender(row: OutboxEmail) -> None:
    """Write the e-mail to the log instead of sending it (no MAIL_SERVER configured)."""
    log.info("e-mail to %s: %s\n%s", row.recipient, row.subject, row.body)


# An e-mail is tried at most MAX_ATTEMPTS times, attempt n+1 waiting 2**n - 1 minutes after the
# e-mail was queued (the outbox job runs every minute): 1, 3, 7 ... 511 minutes, about 8.5 hours
# in all. After the last failure it is dead: kept, logged as an error and listed for the admins.
MAX_ATTEMPTS = 10
RETRY_BASE = dt.timedelta(minutes=1)


def _due(now: dt.datetime) -> sa.ColumnElement[bool]:
    """The unsent e-mails whose next attempt has come (the backoff above), in portable SQL."""
    return sa.or_(*(
        sa.and_(OutboxEmail.attempts == n, OutboxEmail.created_at <= now - RETRY_BASE * (2**n - 1))
        for n in range(MAX_ATTEMPTS)
    ))


def send_outbox(session: so.Session, send: Callable[[OutboxEmail], None],
                limit: int = 500) -> tuple[int, int]:
    """Send the unsent e-mails that are due, oldest first; (sent, failed).

    A failure stays for a retry with backoff; the last one makes the e-mail dead (logged
    as an error, listed by :func:`dead_emails` on the admins' page), never dropped.
    """
    sent = failed = 0
    rows = session.scalars(
        sa.select(OutboxEmail).where(OutboxEmail.sent_at.is_(None), _due(utcnow()))
        .order_by(OutboxEmail.id).limit(limit)
        # Two senders running at once never pick the same e-mail.
        .with_for_update(skip_locked=True)
    ).all()
    for row in rows:
        row.attempts += 1
        try:
            send(row)
        except (OSError, smtplib.SMTPException) as exc:
            row.last_error = f"{type(exc).__name__}: {exc}"[:300]
            failed += 1
            if row.attempts >= MAX_ATTEMPTS:
                log.error("e-mail %d is dead after %d attempts: %s", row.id, row.attempts, row.last_error)
        else:
            row.sent_at = utcnow()
            row.last_error = None
            sent += 1
        session.flush()
    return sent, failed


def dead_emails(session: so.Session, limit: int = 200) -> tuple[int, list[OutboxEmail]]:
    """E-mails that failed MAX_ATTEMPTS times: how many, and the newest `limit` of them."""
    dead = sa.and_(OutboxEmail.sent_at.is_(None), OutboxEmail.attempts >= MAX_ATTEMPTS)
    total = session.scalar(sa.select(sa.func.count()).select_from(OutboxEmail).where(dead)) or 0
    rows = session.scalars(sa.select(OutboxEmail).where(dead).order_by(OutboxEmail.id.desc()).limit(limit)).all()
    return total, list(rows)
