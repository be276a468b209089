"""A conversation by mail through real servers: Dovecot (IMAP) for what customers send, an
aiosmtpd server for what Pacte sends back."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from sla.models import Clock
from tests.email.conftest import DESK_PASSWORD, MailWorld, build_mail
from tests.mailservers import DovecotServer, SmtpSink
from tickets import services
from tickets.channels.email.imap import HANDLED, mailbox_poll
from tickets.models import InboundMail, Mailbox, Status, Ticket
from tickets.tasks import mail_sweep_task

pytestmark = pytest.mark.django_db(transaction=True)

DESK = "support-eu@pacte.test"


def mailbox_for(mail_world: MailWorld, server: DovecotServer, **fields: object) -> Mailbox:
    return Mailbox.objects.create(
        desk=mail_world.europe,
        host=server.host,
        port=server.port,
        security=Mailbox.Security.NONE,
        username=DESK,
        password=DESK_PASSWORD,
        **fields,
    )


def answer_to(received: EmailMessage, text: str) -> bytes:
    """Alice's mail client answering a mail Pacte sent her."""
    reply = EmailMessage()
    reply["From"] = "Alice Martin <alice@acme.test>"
    reply["To"] = str(received["Reply-To"])
    reply["Subject"] = f"RE: {received['Subject']}"
    reply["Message-ID"] = make_msgid(domain="mail.acme.test")
    reply["In-Reply-To"] = received["Message-ID"]
    reply["References"] = f"{received.get('References', '')} {received['Message-ID']}".strip()
    quoted = "\n".join(
        f"> {line}" for line in received.get_body(("plain",)).get_content().splitlines()
    )
    reply.set_content(f"{text}\n\nLe lun. 16 nov. 2026, Europe a écrit :\n{quoted}\n")
    return bytes(reply)


def test_a_conversation_round_trips_through_real_imap_and_smtp_servers(
    mail_world: MailWorld, dovecot: DovecotServer, smtp: SmtpSink
) -> None:
    mailbox = mailbox_for(mail_world, dovecot)
    first = build_mail(message_id="<start@mail.acme.test>", subject="Export vide depuis ce matin")
    dovecot.append(DESK, first)

    result = mailbox_poll(mailbox_id=mailbox.pk)
    assert (result.fetched, result.handled, result.error) == (1, 1, "")
    ticket = Ticket.objects.get()
    assert (ticket.channel, ticket.requester, ticket.desk) == (
        "email",
        mail_world.alice,
        mail_world.europe,
    )
    ((_uid, flags, _raw),) = dovecot.list_messages(DESK)
    assert HANDLED in flags and "\\Seen" not in flags  # marked handled, left unread

    # The confirmation leaves through SMTP, threaded under Alice's mail.
    mail_sweep_task()
    (confirmation,) = smtp.wait_for(1)
    assert confirmation.rcpt_tos == ["alice@acme.test"]
    assert confirmation.message["In-Reply-To"] == "<start@mail.acme.test>"
    assert ticket.reference in confirmation.message["Subject"]

    # Support answers and waits on Alice; she answers that mail from her client.
    agent = mail_world.world.agent_eu
    services.ticket_reply(ticket=ticket, author=agent, body="Pouvez-vous envoyer le fichier ?")
    services.ticket_change_status(ticket=ticket, actor=agent, status=Status.WAITING_ON_CUSTOMER)
    mail_sweep_task()
    sent = smtp.wait_for(3)
    question = sent[1].message
    assert "Pouvez-vous envoyer le fichier ?" in question.get_body(("plain",)).get_content()
    assert question["In-Reply-To"] == confirmation.message["Message-ID"]
    correction = Clock.objects.get(ticket=ticket, metric="correction")
    assert correction.state == Clock.State.PAUSED

    dovecot.append(DESK, answer_to(question, "Voici le fichier, merci."))
    assert mailbox_poll(mailbox_id=mailbox.pk).handled == 1
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS
    correction.refresh_from_db()
    assert correction.state == Clock.State.RUNNING  # the customer's answer resumed it
    latest = ticket.messages.order_by("-pk").first()
    assert latest is not None and latest.body == "Voici le fichier, merci."
    assert "Pouvez-vous envoyer le fichier ?" in latest.quoted

    # Polling again finds nothing new; the same mail delivered twice stays one message.
    assert mailbox_poll(mailbox_id=mailbox.pk).fetched == 0
    dovecot.append(DESK, first)
    again = mailbox_poll(mailbox_id=mailbox.pk)
    assert again.handled == 1
    assert Ticket.objects.count() == 1 and ticket.messages.count() == 3
    assert all(HANDLED in flags for _, flags, _ in dovecot.list_messages(DESK))
    mail_sweep_task()
    assert len(smtp.messages) == 3  # nothing mailed for the duplicate


def test_the_poller_moves_handled_mail_and_keeps_what_it_cannot_read(
    mail_world: MailWorld, dovecot: DovecotServer, smtp: SmtpSink
) -> None:
    mailbox = mailbox_for(mail_world, dovecot, done_folder="Pacte.Handled")
    dovecot.append(DESK, build_mail(sender="bob@globex.test"))
    dovecot.append(DESK, b"Subject: who?\r\nMessage-ID: <anon@x.test>\r\n\r\nno sender at all\r\n")
    dovecot.append(DESK, build_mail(sender="eve@unknown.test", subject="Hello?"))
    result = mailbox_poll(mailbox_id=mailbox.pk)
    assert (result.fetched, result.handled) == (3, 3)
    assert dovecot.list_messages(DESK) == []
    assert len(dovecot.list_messages(DESK, "Pacte.Handled")) == 3
    statuses = sorted(InboundMail.objects.values_list("status", flat=True))
    assert statuses == ["quarantined", "review", "ticketed"]
    mail_sweep_task()
    assert {m.rcpt_tos[0] for m in smtp.wait_for(2)} == {"bob@globex.test", "eve@unknown.test"}


def test_a_wrong_password_is_recorded_and_loses_nothing(
    mail_world: MailWorld, dovecot: DovecotServer
) -> None:
    mailbox = mailbox_for(mail_world, dovecot)
    Mailbox.objects.filter(pk=mailbox.pk).update(password="wrong")
    dovecot.append(DESK, build_mail())
    result = mailbox_poll(mailbox_id=mailbox.pk)
    assert result.handled == 0 and "login failed" in result.error
    mailbox.refresh_from_db()
    assert "login failed" in mailbox.last_error and mailbox.last_polled_at is not None
    Mailbox.objects.filter(pk=mailbox.pk).update(password=DESK_PASSWORD)
    assert mailbox_poll(mailbox_id=mailbox.pk).handled == 1
    mailbox.refresh_from_db()
    assert mailbox.last_error == ""


def test_a_done_folder_the_server_refuses_is_an_error_on_the_mailbox_not_a_crash(
    mail_world: MailWorld, dovecot: DovecotServer
) -> None:
    mailbox = mailbox_for(mail_world, dovecot, done_folder="Bad/Name")
    dovecot.append(DESK, build_mail())
    result = mailbox_poll(mailbox_id=mailbox.pk)
    assert "Invalid mailbox name" in result.error
    assert Ticket.objects.count() == 1  # handled and kept; only the move failed
    ((_uid, flags, _raw),) = dovecot.list_messages(DESK)
    assert HANDLED in flags  # flagged before the move: not fetched again
    assert mailbox_poll(mailbox_id=mailbox.pk).fetched == 0
    assert Ticket.objects.count() == 1
