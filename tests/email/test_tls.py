"""TLS verified everywhere, and no mail server can stall Pacte: the IMAP poller against a real
Dovecot (implicit TLS and STARTTLS), the SMTP backend and the outbox against aiosmtpd (STARTTLS
and implicit TLS), each with a certificate from a test CA made here (trustme), a self-signed
one, one for another host name, and a server that accepts connections and never answers."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from cryptography.fernet import Fernet
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.utils import timezone

from tests.email.conftest import DESK_PASSWORD, MailWorld, build_mail
from tests.mailservers import (
    DovecotServer,
    SilentServer,
    TlsIdentity,
    dovecot_server,
    self_signed_identity,
    smtp_sink,
    tls_identity,
)
from tickets.channels.email.imap import HANDLED, mailbox_poll
from tickets.channels.email.smtp import (
    CertificateVerificationFailed,
    StartTlsNotOffered,
    TlsRequired,
)
from tickets.models import Mailbox, OutboundMail
from tickets.services.customer_mail import outbound_send

DESK = "support-eu@pacte.test"
USERS = {DESK: DESK_PASSWORD}
ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def trusted(ca: trustme.CA) -> TlsIdentity:
    return tls_identity(ca)


def mailbox(
    mail_world: MailWorld, server: DovecotServer, security: str, ca_bundle: str = ""
) -> Mailbox:
    port = server.tls_port if security == Mailbox.Security.SSL else server.port
    return Mailbox.objects.create(
        desk=mail_world.europe,
        host=server.host,
        port=port,
        security=security,
        username=DESK,
        password=DESK_PASSWORD,
        ca_bundle=ca_bundle,
    )


TLS_KINDS = [Mailbox.Security.SSL, Mailbox.Security.STARTTLS]


# --- IMAP -------------------------------------------------------------------------------------


@pytest.fixture
def tls_dovecot(trusted: TlsIdentity) -> Iterator[DovecotServer]:
    yield from dovecot_server(USERS, tls=trusted)


@pytest.mark.django_db
@pytest.mark.parametrize("security", TLS_KINDS)
def test_imap_trusts_the_ca_bundle_of_the_mailbox_and_fetches_the_mail(
    mail_world: MailWorld, tls_dovecot: DovecotServer, trusted: TlsIdentity, security: str
) -> None:
    box = mailbox(mail_world, tls_dovecot, security, ca_bundle=trusted.ca_pem)
    tls_dovecot.append(DESK, build_mail(message_id="<tls@acme.test>"))
    result = mailbox_poll(mailbox_id=box.pk)
    assert (result.fetched, result.handled, result.error) == (1, 1, "")
    [(_uid, flags, _raw)] = tls_dovecot.list_messages(DESK)
    assert HANDLED in flags
    box.refresh_from_db()
    assert box.last_error == ""


@pytest.mark.django_db
@pytest.mark.parametrize("security", TLS_KINDS)
def test_imap_refuses_a_self_signed_certificate_and_loses_nothing(
    mail_world: MailWorld, security: str
) -> None:
    for server in dovecot_server(USERS, tls=self_signed_identity()):
        box = mailbox(mail_world, server, security)
        server.append(DESK, build_mail(message_id="<refused@acme.test>"))
        result = mailbox_poll(mailbox_id=box.pk)
        assert (result.fetched, result.handled) == (0, 0)
        box.refresh_from_db()
        assert box.last_error.startswith(
            f"TLS certificate verification failed for 127.0.0.1:{box.port}: self-signed "
        )
        assert "give the CA that signed it" in box.last_error
        [(_uid, flags, _raw)] = server.list_messages(DESK)  # still there, not marked
        assert HANDLED not in flags


@pytest.mark.django_db
@pytest.mark.parametrize("security", TLS_KINDS)
def test_imap_verifies_against_the_system_store_without_a_bundle(
    mail_world: MailWorld, tls_dovecot: DovecotServer, security: str
) -> None:
    box = mailbox(mail_world, tls_dovecot, security)  # the test CA is in no system store
    result = mailbox_poll(mailbox_id=box.pk)
    assert "certificate verification failed" in result.error
    assert "unable to get local issuer certificate" in result.error


@pytest.mark.django_db
def test_imap_checks_the_host_name(mail_world: MailWorld, ca: trustme.CA) -> None:
    other_host = tls_identity(ca, "imap.example.test")
    for server in dovecot_server(USERS, tls=other_host):
        box = mailbox(mail_world, server, Mailbox.Security.SSL, ca_bundle=other_host.ca_pem)
        result = mailbox_poll(mailbox_id=box.pk)
        assert "certificate verification failed" in result.error
        assert "IP address mismatch" in result.error


@pytest.mark.django_db
def test_imap_without_tls_only_to_this_machine(mail_world: MailWorld) -> None:
    box = Mailbox(
        desk=mail_world.europe,
        host="imap.example.test",
        port=143,
        security=Mailbox.Security.NONE,
        username=DESK,
        password=DESK_PASSWORD,
    )
    with pytest.raises(ValidationError) as refused:
        box.full_clean()
    assert "in clear" in str(refused.value.message_dict["security"])
    box.save()  # as an older row would be: the poller refuses it before connecting
    result = mailbox_poll(mailbox_id=box.pk)
    assert "refusing IMAP without TLS to imap.example.test" in result.error
    box.host = "127.0.0.1"
    box.full_clean()


@pytest.mark.django_db
@pytest.mark.parametrize("security", [*TLS_KINDS, Mailbox.Security.NONE])
def test_a_silent_imap_server_is_a_timeout_on_the_mailbox_not_a_stalled_poller(
    mail_world: MailWorld, settings: object, security: str
) -> None:
    settings.PACTE_IMAP_TIMEOUT = 0.3  # type: ignore[attr-defined]
    with SilentServer() as silent:
        box = Mailbox.objects.create(
            desk=mail_world.europe,
            host=silent.host,
            port=silent.port,
            security=security,
            username=DESK,
            password=DESK_PASSWORD,
        )
        started = time.monotonic()
        result = mailbox_poll(mailbox_id=box.pk)
        assert time.monotonic() - started < 3
        assert silent.accepted == 1
    box.refresh_from_db()
    assert box.last_error == result.error
    assert result.error.startswith(f"no answer from 127.0.0.1:{silent.port} in time (timeout)")


@pytest.mark.django_db
def test_a_password_no_key_opens_is_an_error_on_the_mailbox(
    mail_world: MailWorld, settings: object
) -> None:
    box = Mailbox.objects.create(
        desk=mail_world.europe,
        host="127.0.0.1",
        port=1,
        security=Mailbox.Security.NONE,
        username=DESK,
        password=DESK_PASSWORD,
    )
    settings.PACTE_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]  # type: ignore[attr-defined]
    result = mailbox_poll(mailbox_id=box.pk)
    assert result.error.startswith("The stored tickets.Mailbox.password cannot be decrypted")
    assert Mailbox.objects.filter(pk=box.pk, last_error=result.error).exists()


# --- SMTP -------------------------------------------------------------------------------------


def send_through(port: int, host: str = "127.0.0.1", **options: object) -> int:
    connection = get_connection(
        "tickets.channels.email.smtp.EmailBackend",
        host=host,
        port=port,
        username="",
        password="",
        timeout=5,
        **options,
    )
    message = EmailMessage(
        "Ticket PAC-000042",
        "Bonjour",
        "support@pacte.test",
        ["alice@acme.test"],
        connection=connection,
    )
    return message.send()


@pytest.fixture
def ca_file(tmp_path: Path, trusted: TlsIdentity) -> str:
    path = tmp_path / "ca.pem"
    path.write_text(trusted.ca_pem)
    return str(path)


SMTP_KINDS = [{"use_tls": True}, {"use_ssl": True}]  # STARTTLS, implicit TLS


@pytest.mark.parametrize("kind", SMTP_KINDS, ids=["starttls", "implicit"])
def test_smtp_delivers_to_a_server_signed_by_the_configured_ca(
    trusted: TlsIdentity, ca_file: str, kind: dict[str, bool]
) -> None:
    for sink in smtp_sink(tls=trusted, implicit_tls="use_ssl" in kind):
        assert send_through(sink.port, ca_file=ca_file, **kind) == 1
        [received] = sink.wait_for(1)
        assert received.rcpt_tos == ["alice@acme.test"]


@pytest.mark.parametrize("kind", SMTP_KINDS, ids=["starttls", "implicit"])
def test_smtp_refuses_self_signed_unknown_ca_and_wrong_host(
    ca: trustme.CA, ca_file: str, kind: dict[str, bool]
) -> None:
    cases = [
        (self_signed_identity(), ca_file, "self-signed certificate"),
        (tls_identity(ca), "", "unable to get local issuer certificate"),  # system store
        (tls_identity(ca, "smtp.example.test"), ca_file, "IP address mismatch"),
    ]
    for identity, trust, reason in cases:
        for sink in smtp_sink(tls=identity, implicit_tls="use_ssl" in kind):
            with pytest.raises(CertificateVerificationFailed) as refused:
                send_through(sink.port, ca_file=trust, **kind)
            assert f"TLS certificate verification failed for 127.0.0.1:{sink.port}" in str(
                refused.value
            )
            assert reason in str(refused.value)
            assert sink.messages == []


def test_plain_smtp_only_to_this_machine(settings: object) -> None:
    settings.EMAIL_TIMEOUT = 0.3  # type: ignore[attr-defined]
    with pytest.raises(TlsRequired, match="refusing plain SMTP to smtp.example.test:25"):
        send_through(25, host="smtp.example.test")  # refused before any look-up


@pytest.mark.parametrize("kind", [*SMTP_KINDS, {}], ids=["starttls", "implicit", "plain"])
def test_a_silent_smtp_server_times_out(settings: object, kind: dict[str, bool]) -> None:
    settings.EMAIL_TIMEOUT = 0.3  # type: ignore[attr-defined]
    with SilentServer() as silent:
        started = time.monotonic()
        connection = get_connection(
            "tickets.channels.email.smtp.EmailBackend", host=silent.host, port=silent.port, **kind
        )
        with pytest.raises(TimeoutError, match="in time"):
            connection.open()
        assert time.monotonic() - started < 3


# --- the outbox ---------------------------------------------------------------------------------


@pytest.fixture
def outbound(mail_world: MailWorld) -> OutboundMail:
    return OutboundMail.objects.create(
        kind=OutboundMail.Kind.UNKNOWN_SENDER,
        from_address="support-eu@pacte.test",
        to_address="alice@acme.test",
        language="fr",
        subject="Votre message",
        text="Bonjour",
        html="<p>Bonjour</p>",
        mail_id="<outbox-tls@pacte.test>",
    )


def point_mail_at(settings: object, port: int, **tls: object) -> None:
    settings.EMAIL_BACKEND = "tickets.channels.email.smtp.EmailBackend"  # type: ignore[attr-defined]
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port  # type: ignore[attr-defined]
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""  # type: ignore[attr-defined]
    settings.EMAIL_USE_TLS = tls.get("use_tls", False)  # type: ignore[attr-defined]
    settings.EMAIL_USE_SSL = tls.get("use_ssl", False)  # type: ignore[attr-defined]
    settings.PACTE_EMAIL_CA_FILE = tls.get("ca_file", "")  # type: ignore[attr-defined]


@pytest.mark.django_db
def test_the_outbox_keeps_a_mail_a_silent_or_untrusted_server_did_not_take(
    settings: object, outbound: OutboundMail, trusted: TlsIdentity, ca_file: str
) -> None:
    settings.EMAIL_TIMEOUT = 0.3  # type: ignore[attr-defined]
    with SilentServer() as silent:
        point_mail_at(settings, silent.port, use_tls=True, ca_file=ca_file)
        started = time.monotonic()
        assert outbound_send(outbound_id=outbound.pk, now=timezone.now()) is False
        assert time.monotonic() - started < 3
    outbound.refresh_from_db()
    assert (outbound.state, outbound.attempts) == (OutboundMail.State.PENDING, 1)
    assert "(timeout)" in outbound.error

    for sink in smtp_sink(tls=self_signed_identity()):
        point_mail_at(settings, sink.port, use_tls=True, ca_file=ca_file)
        assert outbound_send(outbound_id=outbound.pk, now=timezone.now()) is False
        assert sink.messages == []
    outbound.refresh_from_db()
    assert (outbound.state, outbound.attempts) == (OutboundMail.State.PENDING, 2)
    assert "TLS certificate verification failed" in outbound.error

    for sink in smtp_sink(tls=trusted):
        point_mail_at(settings, sink.port, use_tls=True, ca_file=ca_file)
        assert outbound_send(outbound_id=outbound.pk, now=timezone.now()) is True
        [received] = sink.wait_for(1)
        assert received.message["Message-ID"] == "<outbox-tls@pacte.test>"
    outbound.refresh_from_db()
    assert (outbound.state, outbound.error) == (OutboundMail.State.SENT, "")


# --- settings -----------------------------------------------------------------------------------


def test_smtp_urls_get_the_verifying_backend_and_a_timeout_by_default() -> None:
    code = (
        "from django.conf import settings as s; "
        "print(s.EMAIL_BACKEND, s.EMAIL_USE_TLS, s.EMAIL_TIMEOUT, s.PACTE_IMAP_TIMEOUT, "
        "repr(s.PACTE_EMAIL_CA_FILE))"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "EMAIL_URL": "smtp+tls://user:pw@smtp.example.test:587",
        },
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == [
        "tickets.channels.email.smtp.EmailBackend",
        "True",
        "30.0",
        "30.0",
        "''",
    ]


# --- A server that does not offer STARTTLS: no downgrade to clear text -----------------------


@pytest.mark.django_db
def test_imap_starttls_to_a_server_that_does_not_offer_it_logs_in_nowhere(
    mail_world: MailWorld,
) -> None:
    for server in dovecot_server(USERS):  # no TLS at all: STARTTLS is not advertised
        box = mailbox(mail_world, server, Mailbox.Security.STARTTLS)
        server.append(DESK, build_mail(message_id="<no-starttls@acme.test>"))
        result = mailbox_poll(mailbox_id=box.pk)
        assert (result.fetched, result.handled) == (0, 0)
        box.refresh_from_db()
        assert box.last_error.startswith(f"127.0.0.1:{box.port} does not offer STARTTLS")
        assert "nothing was sent without TLS" in box.last_error
        [(_uid, flags, _raw)] = server.list_messages(DESK)  # still there, not marked
        assert HANDLED not in flags


def test_smtp_starttls_to_a_server_that_does_not_offer_it_sends_nothing() -> None:
    for sink in smtp_sink():  # a plain server: no STARTTLS in its EHLO answer
        with pytest.raises(StartTlsNotOffered) as refused:
            send_through(sink.port, use_tls=True)
        assert str(refused.value).startswith(f"127.0.0.1:{sink.port} does not offer STARTTLS")
        assert sink.messages == []


def test_an_unreadable_smtp_ca_file_is_found_by_the_system_checks(
    settings: object, tmp_path: Path, ca_file: str
) -> None:
    from tickets.apps import email_ca_file_check

    settings.PACTE_EMAIL_CA_FILE = str(tmp_path / "missing.pem")  # type: ignore[attr-defined]
    [error] = email_ca_file_check()
    assert error.id == "pacte.E002" and "missing.pem cannot be read" in error.msg
    (tmp_path / "garbage.pem").write_text("not a certificate")
    settings.PACTE_EMAIL_CA_FILE = str(tmp_path / "garbage.pem")  # type: ignore[attr-defined]
    assert [e.id for e in email_ca_file_check()] == ["pacte.E002"]
    settings.PACTE_EMAIL_CA_FILE = ca_file  # type: ignore[attr-defined]
    assert email_ca_file_check() == []
