"""The LMTP intake, a real `manage.py lmtp_serve` process on a loopback port, spoken to as
Postfix would: one reply per recipient after DATA; 250 once the mail is stored (a duplicate
included), 550/552 for what no retry fixes, 451 when nothing could be stored (the MTA keeps
the mail and tries again)."""

from __future__ import annotations

import os
import smtplib
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.email.conftest import MailWorld, build_mail
from tests.services import ROOT, database_url_for_subprocess, free_port
from tickets.models import InboundMail, Ticket

pytestmark = pytest.mark.django_db(transaction=True)


@contextmanager
def lmtp_server(database_url: str | None = None, **env: str) -> Iterator[int]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "lmtp_serve", "--port", str(port)],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": database_url or database_url_for_subprocess(),
            "PACTE_MAIL_DEFAULT_DESK": "eu",
            **env,
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.communicate()[0].decode()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "lmtp_serve did not listen"
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=15)


Delivery = Callable[..., list[tuple[int, bytes]]]


def on_the_wire(raw: bytes) -> bytes:
    """CRLF line ends, as an MTA sends a message (Python writes LF)."""
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def deliver(port: int, raw: bytes, *recipients: str) -> list[tuple[int, bytes]]:
    """MAIL, RCPT for each recipient, DATA: the reply for each recipient, in order."""
    raw = on_the_wire(raw)
    with smtplib.LMTP("127.0.0.1", port) as client:
        client.ehlo()  # LHLO
        client.mail("alice@acme.test")
        for recipient in recipients:
            assert client.rcpt(recipient)[0] == 250
        replies = [client.data(raw)]
        replies += [client.getreply() for _ in recipients[1:]]
        return replies


def test_a_message_is_stored_and_each_recipient_answered(
    mail_world: MailWorld, tmp_path: Path
) -> None:
    raw = build_mail(message_id="<lmtp-1@mail.acme.test>")
    with lmtp_server() as port:
        ((code, text),) = deliver(port, raw, "support-eu@pacte.test")
        assert code == 250 and b"ticketed" in text, text
        ticket = Ticket.objects.get()
        assert ticket.desk == mail_world.europe
        assert InboundMail.objects.get().source == InboundMail.Source.LMTP
        # Delivered again (the MTA timed out before our reply), and to two addresses at once:
        # one reply each, both success, still one ticket.
        replies = deliver(port, raw, "support-eu@pacte.test", "support-na@pacte.test")
        assert [code for code, _ in replies] == [250, 250]
        assert all(b"duplicate" in text for _, text in replies)
        assert Ticket.objects.count() == 1
        # Nothing to store: refused for good, the MTA bounces it.
        ((code, text),) = deliver(port, b"\r\n", "support-eu@pacte.test")
        assert code == 550, text
    assert InboundMail.objects.count() == 1


def test_a_message_too_large_is_refused_for_good(mail_world: MailWorld) -> None:
    with lmtp_server(PACTE_MAIL_MAX_BYTES="2000") as port:
        raw = build_mail(body="A line of the log that keeps going.\n" * 100)
        with smtplib.LMTP("127.0.0.1", port) as client:
            client.ehlo()
            client.mail("alice@acme.test")
            client.rcpt("support-eu@pacte.test")
            code, text = client.data(on_the_wire(raw))
    assert code == 552, text
    assert not InboundMail.objects.exists()


def test_nothing_stored_asks_the_mta_to_try_again(mail_world: MailWorld, tmp_path: Path) -> None:
    away = f"sqlite:///{tmp_path}/missing/dir/db.sqlite3"  # the database cannot be opened
    with lmtp_server(database_url=away) as port:
        ((code, text),) = deliver(port, build_mail(), "support-eu@pacte.test")
    assert code == 451 and b"try again later" in text, text
