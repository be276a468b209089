"""The test mail servers of tests/mailservers.py, proved with the clients the project uses:
imap-tools against Dovecot, Django's SMTP backend and smtplib against the SMTP sink."""

from __future__ import annotations

import os
import re
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
import trustme
from django.core.mail import EmailMultiAlternatives, get_connection
from imap_tools import MailBox, MailBoxStartTls, MailBoxUnencrypted, MailMessageFlags
from imap_tools.errors import MailboxLoginError

from tests import mailservers
from tests.mailservers import (
    MAX_MESSAGE_BYTES,
    SKIP_REASON,
    DovecotNotInstalled,
    DovecotServer,
    SilentServer,
    SmtpSink,
    dovecot_server,
    self_signed_identity,
    smtp_sink,
    tls_identity,
)

EU = "support-eu@pacte.test"
NA = "support-na@pacte.test"
USERS = {EU: "secret", NA: "secret"}


@pytest.fixture
def dovecot() -> Iterator[DovecotServer]:
    yield from dovecot_server(USERS)


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    yield from smtp_sink()


def customer_mail(subject: str, body: str, message_id: str) -> bytes:
    message = EmailMessage()
    message["From"] = "Alice Martin <alice@acme.test>"
    message["To"] = EU
    message["Subject"] = subject
    message["Message-ID"] = message_id
    message.set_content(body)
    return message.as_bytes(policy=message.policy.clone(linesep="\r\n"))


def test_dovecot_messages_round_trip_through_imap_tools(dovecot: DovecotServer) -> None:
    first = customer_mail(
        "Panne du portail — urgent", "Le portail est en panne.\n", "<1@acme.test>"
    )
    second = customer_mail("Facture de mars", "Merci pour la facture.\n", "<2@acme.test>")
    assert dovecot.append(EU, first) == 1
    assert dovecot.append(EU, second, flags=("\\Seen",)) == 2

    with MailBoxUnencrypted(dovecot.host, dovecot.port).login(EU, "secret") as mailbox:
        fetched = list(mailbox.fetch(mark_seen=False))
        assert [(m.subject, m.from_, m.text) for m in fetched] == [
            ("Panne du portail — urgent", "alice@acme.test", "Le portail est en panne.\r\n"),
            ("Facture de mars", "alice@acme.test", "Merci pour la facture.\r\n"),
        ]
        # \Recent goes to the first session that sees a message: imap-tools reports it.
        assert [set(m.flags) - {"\\Recent"} for m in fetched] == [set(), {"\\Seen"}]
        mailbox.flag(fetched[0].uid, MailMessageFlags.FLAGGED, True)
        mailbox.folder.create("Archive")
        mailbox.move(fetched[1].uid, "Archive")

    assert dovecot.list_messages(EU) == [(1, ("\\Flagged",), first)]
    assert dovecot.list_messages(EU, "Archive") == [(1, ("\\Seen",), second)]
    assert dovecot.folders(EU) == ["Archive", "INBOX"]
    # Users are apart; the helper creates a folder, non-ASCII names included (modified UTF-7).
    assert dovecot.list_messages(NA) == []
    assert dovecot.append(NA, first, folder="Réclamations") == 1
    assert dovecot.folders(NA) == ["INBOX", "Réclamations"]
    with MailBoxUnencrypted(dovecot.host, dovecot.port).login(NA, "secret", "Réclamations") as na:
        assert [m.subject for m in na.fetch()] == ["Panne du portail — urgent"]


def test_dovecot_refuses_a_wrong_password_and_stops_without_a_trace() -> None:
    body = dovecot_server(USERS)  # the fixture body, driven by hand to see what stop leaves
    server = next(body)
    assert server.process is not None and server.directory is not None
    pid, directory, port = server.process.pid, server.directory, server.port
    with pytest.raises(MailboxLoginError):
        MailBoxUnencrypted(server.host, server.port).login(EU, "wrong")
    with MailBoxUnencrypted(server.host, server.port).login(NA, "secret") as mailbox:
        assert mailbox.folder.list()[0].name == "INBOX"

    body.close()
    assert not directory.exists()
    assert not mailservers._group_alive(pid)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((server.host, port), timeout=2).close()


def test_a_missing_dovecot_is_a_skip_that_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(mailservers, "DOVECOT", "/nonexistent/sbin/dovecot")
    with pytest.raises(DovecotNotInstalled, match=re.escape(SKIP_REASON)):
        DovecotServer(USERS).start()
    with pytest.raises(pytest.skip.Exception, match=re.escape(SKIP_REASON)):
        next(dovecot_server(USERS))


def test_django_smtp_backend_delivers_to_the_sink(sink: SmtpSink) -> None:
    subject = "Réclamation n° 42 : délai dépassé ✓"
    attachment = os.urandom(1024 * 1024)
    connection = get_connection(
        "django.core.mail.backends.smtp.EmailBackend",
        host=sink.host,
        port=sink.port,
        username="",
        password="",
        use_tls=False,
        use_ssl=False,
        timeout=10,
    )
    message = EmailMultiAlternatives(
        subject=subject,
        body="Bonjour,\nle délai est dépassé.\n",
        from_email="Pacte Europe <support-eu@pacte.test>",
        to=["Alice Martin <alice@acme.test>"],
        cc=["amir@acme.test"],
        bcc=["audit@pacte.test"],
        connection=connection,
    )
    message.attach_alternative("<p>Bonjour, le délai est dépassé.</p>", "text/html")
    message.attach("journal.bin", attachment, "application/octet-stream")
    assert message.send() == 1

    [received] = sink.wait_for(1)
    assert received.mail_from == "support-eu@pacte.test"
    assert received.rcpt_tos == ["alice@acme.test", "amir@acme.test", "audit@pacte.test"]
    parsed = received.message
    assert parsed["Subject"] == subject
    assert "Bcc" not in parsed
    plain = parsed.get_body(("plain",))
    html = parsed.get_body(("html",))
    assert plain is not None and html is not None
    assert plain.get_content().replace("\r\n", "\n") == "Bonjour,\nle délai est dépassé.\n"
    assert "dépassé" in html.get_content()
    [attached] = parsed.iter_attachments()
    assert attached.get_filename() == "journal.bin"
    assert attached.get_content() == attachment

    sink.clear()
    assert sink.messages == []


def test_the_sink_speaks_smtputf8_and_8bitmime_to_concurrent_clients(sink: SmtpSink) -> None:
    raw = (
        "From: Élodie <élodie@pacte.test>\r\nTo: zoë@acme.test\r\nSubject: Été\r\n\r\n"
        "Café crème, sans encodage de transfert.\r\n"
    ).encode()

    def send(index: int) -> None:
        with smtplib.SMTP(sink.host, sink.port, timeout=10) as client:
            client.ehlo()
            assert client.has_extn("smtputf8") and client.has_extn("8bitmime")
            assert int(client.esmtp_features["size"]) == MAX_MESSAGE_BYTES
            client.sendmail(
                "élodie@pacte.test",
                [f"zoë+{index}@acme.test"],
                raw,
                mail_options=["SMTPUTF8", "BODY=8BITMIME"],
            )

    threads = [threading.Thread(target=send, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)
    received = sink.wait_for(4)
    assert len(received) == 4
    assert sorted(r.rcpt_tos[0] for r in received) == [f"zoë+{i}@acme.test" for i in range(4)]
    assert {r.mail_from for r in received} == {"élodie@pacte.test"}
    assert {r.raw for r in received} == {raw}
    assert received[0].message["Subject"] == "Été"
    assert "SMTPUTF8" in received[0].mail_options

    sink.clear()
    with pytest.raises(TimeoutError, match="received 0 message"):
        sink.wait_for(1, timeout=0.1)


def test_the_sink_takes_a_message_of_nearly_40_mib_and_refuses_a_larger_one(
    sink: SmtpSink,
) -> None:
    header = b"From: a@acme.test\r\nTo: b@pacte.test\r\nSubject: big\r\n\r\n"
    line = b"A" * 76 + b"\r\n"
    big = header + line * ((MAX_MESSAGE_BYTES - len(header) - 1024) // len(line))
    too_big = big + line * 1000
    with smtplib.SMTP(sink.host, sink.port, timeout=30) as client:
        client.sendmail("a@acme.test", ["b@pacte.test"], big)
        with pytest.raises(smtplib.SMTPException) as refused:
            client.sendmail("a@acme.test", ["b@pacte.test"], too_big)
    assert "552" in str(refused.value)
    [received] = sink.wait_for(1)
    assert received.raw == big


def test_dovecot_with_a_certificate_speaks_imaps_and_starttls() -> None:
    ca = trustme.CA()
    trusting = ssl.create_default_context(cadata=ca.cert_pem.bytes().decode())
    for server in dovecot_server(USERS, tls=tls_identity(ca)):
        assert server.tls_port and server.tls_port != server.port
        with MailBox(server.host, server.tls_port, ssl_context=trusting).login(EU, "secret") as box:
            assert box.client.sock.version() in ("TLSv1.2", "TLSv1.3")
        with MailBoxStartTls(server.host, server.port, ssl_context=trusting).login(EU, "secret"):
            pass
        assert server.append(EU, customer_mail("TLS", "ok\n", "<tls@acme.test>")) == 1
    for server in dovecot_server(USERS, tls=self_signed_identity()):
        with pytest.raises(ssl.SSLCertVerificationError, match="self-signed"):
            MailBox(server.host, server.tls_port, ssl_context=ssl.create_default_context())


def test_the_sink_requires_starttls_or_speaks_implicit_tls() -> None:
    ca = trustme.CA()
    trusting = ssl.create_default_context(cadata=ca.cert_pem.bytes().decode())
    raw = b"From: a@acme.test\r\nTo: b@pacte.test\r\nSubject: tls\r\n\r\nok\r\n"
    for sink in smtp_sink(tls=tls_identity(ca)):
        with (
            smtplib.SMTP(sink.host, sink.port, timeout=10) as client,
            pytest.raises(smtplib.SMTPSenderRefused, match="STARTTLS"),
        ):
            client.sendmail("a@acme.test", ["b@pacte.test"], raw)
        with smtplib.SMTP(sink.host, sink.port, timeout=10) as client:
            client.starttls(context=trusting)
            client.sendmail("a@acme.test", ["b@pacte.test"], raw)
        assert [m.raw for m in sink.wait_for(1)] == [raw]
    for sink in smtp_sink(tls=tls_identity(ca), implicit_tls=True):
        with smtplib.SMTP_SSL(sink.host, sink.port, context=trusting, timeout=10) as client:
            client.sendmail("a@acme.test", ["b@pacte.test"], raw)
        assert len(sink.wait_for(1)) == 1


def test_the_silent_server_accepts_and_never_answers() -> None:
    with SilentServer() as silent:
        with socket.create_connection((silent.host, silent.port), timeout=0.2) as client:
            started = time.monotonic()
            with pytest.raises(TimeoutError):
                client.recv(1)
            assert time.monotonic() - started >= 0.15
        assert silent.accepted == 1
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((silent.host, silent.port), timeout=1).close()
