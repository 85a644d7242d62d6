"""The SMTP sender checks the server's certificate, speaks SMTPS, and uses one connection per batch.

A real SMTP server (aiosmtpd) on loopback with a certificate made for the test: self-signed,
it must be refused (the e-mail stays in the outbox with the reason); trusted through
MAIL_CA_FILE, the batch goes through one connection.
"""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from models import OutboxEmail
from services import notifications
from tests.ops.test_production import free_port


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[int, str]] = []  # (connection, recipient)

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append((id(session), envelope.rcpt_tos[0]))
        return "250 OK"


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    return _self_signed(tmp_path)


def _server(certificate: tuple[Path, Path], implicit_tls: bool) -> tuple[Controller, _Inbox, int]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    inbox, port = _Inbox(), free_port()
    if implicit_tls:
        controller = Controller(inbox, hostname="127.0.0.1", port=port, ssl_context=context)
    else:
        controller = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=context,
                                require_starttls=True)
    controller.start()
    return controller, inbox, port


@pytest.fixture
def starttls_server(certificate) -> Iterator[tuple[_Inbox, int]]:  # type: ignore[no-untyped-def]
    controller, inbox, port = _server(certificate, implicit_tls=False)
    yield inbox, port
    controller.stop()


def _queue(db, count: int) -> None:  # type: ignore[no-untyped-def]
    for n in range(count):
        db.add(OutboxEmail(recipient=f"referente{n}@example.org", subject="Proposition", body="Bonjour"))
    db.flush()


def _send(db, config) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    sender = notifications.smtp_sender(config)
    try:
        return notifications.send_outbox(db, sender)
    finally:
        sender.close()


def test_a_self_signed_certificate_is_refused_and_the_email_kept(db, starttls_server):
    inbox, port = starttls_server
    _queue(db, 1)
    config = {"MAIL_SERVER": "localhost", "MAIL_PORT": port, "MAIL_USE_TLS": True}
    assert _send(db, config) == (0, 1)
    assert inbox.messages == []
    row = db.scalars(sa.select(OutboxEmail)).one()
    assert row.sent_at is None and row.attempts == 1
    assert "CERTIFICATE_VERIFY_FAILED" in (row.last_error or "")


def test_a_trusted_certificate_sends_the_batch_over_one_connection(db, starttls_server, certificate):
    inbox, port = starttls_server
    _queue(db, 3)
    config = {"MAIL_SERVER": "localhost", "MAIL_PORT": port, "MAIL_USE_TLS": True,
              "MAIL_CA_FILE": str(certificate[0])}
    assert _send(db, config) == (3, 0)
    assert sorted(to for _, to in inbox.messages) == [f"referente{n}@example.org" for n in range(3)]
    assert len({connection for connection, _ in inbox.messages}) == 1
    assert db.scalar(sa.select(sa.func.count()).where(OutboxEmail.sent_at.is_(None))) == 0


def test_smtps_checks_the_certificate_too(db, certificate):
    controller, inbox, port = _server(certificate, implicit_tls=True)
    try:
        _queue(db, 1)
        config = {"MAIL_SERVER": "localhost", "MAIL_PORT": port, "MAIL_USE_SSL": True}
        assert _send(db, config) == (0, 1)
        assert inbox.messages == []
        _queue(db, 1)  # a new e-mail (the first waits for its retry)
        assert _send(db, {**config, "MAIL_CA_FILE": str(certificate[0])}) == (1, 0)
        assert [to for _, to in inbox.messages] == ["referente0@example.org"]
    finally:
        controller.stop()


def _closed_port_config() -> dict[str, object]:
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": free_port(), "MAIL_USE_TLS": False}


def test_failures_are_retried_with_backoff(db):
    _queue(db, 1)
    config = _closed_port_config()
    assert _send(db, config) == (0, 1)
    row = db.scalars(sa.select(OutboxEmail)).one()
    assert row.attempts == 1 and "Connection refused" in (row.last_error or "")
    assert _send(db, config) == (0, 0)  # the second try waits a minute after queueing
    row.created_at = row.created_at - dt.timedelta(minutes=1, seconds=5)
    db.flush()
    assert _send(db, config) == (0, 1)
    assert row.attempts == 2
    assert _send(db, config) == (0, 0)  # the third, three minutes after queueing


def test_after_the_last_try_the_email_is_dead_and_shown_to_admins(db, client, login_as, caplog):
    _queue(db, 1)
    row = db.scalars(sa.select(OutboxEmail)).one()
    row.created_at = row.created_at - dt.timedelta(days=2)  # every retry is due
    db.flush()
    config = _closed_port_config()
    for _ in range(notifications.MAX_ATTEMPTS):
        assert _send(db, config) == (0, 1)
    assert _send(db, config) == (0, 0)  # no eleventh try
    assert row.sent_at is None and row.attempts == notifications.MAX_ATTEMPTS
    assert any("is dead after 10 attempts" in r.getMessage() for r in caplog.records)
    total, rows = notifications.dead_emails(db)
    assert total == 1 and rows == [row]
    db.commit()

    login_as("admin")
    page = client.get("/admin/courriels-en-echec")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "referente0@example.org" in text and "Proposition" in text and "Connection refused" in text
    assert "1 courriel en échec" in text
    assert "courriels-en-echec" in client.get("/admin/").get_data(as_text=True)
