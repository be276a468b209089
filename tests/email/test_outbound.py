"""Mail Pacte sends customers: when, in which language, and threaded in every mail client."""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta
from email.message import EmailMessage

import pytest
from django.core import mail
from django.utils import timezone

from tests.email.conftest import MailWorld, build_mail
from tests.factories import open_ticket
from tickets import services, tasks
from tickets.channels.email.ingest import mail_process
from tickets.models import InboundMail, OutboundMail, Status
from tickets.services.customer_mail import MAX_ATTEMPTS, outbound_send
from tickets.tasks import mail_sweep_task

pytestmark = pytest.mark.django_db(transaction=True)


def delivered() -> list[EmailMessage]:
    mail_sweep_task()
    found = [
        email.message_from_bytes(m.message().as_bytes(), policy=email.policy.default)
        for m in mail.outbox
    ]
    mail.outbox.clear()
    return found  # type: ignore[return-value]


def test_every_step_support_takes_is_mailed_threaded_in_the_contacts_language(
    mail_world: MailWorld,
) -> None:
    alice = mail_world.alice  # French
    agent = mail_world.world.agent_eu
    ticket = open_ticket(alice, subject="Export vide")
    (opened,) = delivered()
    assert opened["Subject"] == f"[{ticket.reference}] Export vide"
    assert "In-Reply-To" not in opened  # the first mail of the thread
    text = opened.get_body(("plain",)).get_content()
    assert "Nous avons bien reçu votre demande" in text and ticket.reference in text
    assert opened["From"].addresses[0].addr_spec == "support-eu@pacte.test"
    # Who writes, in Alice's language: her organization's support, and which desk.
    assert opened["From"].addresses[0].display_name == "Support Acme — Europe"
    assert opened["Reply-To"].addresses[0].addr_spec == "support-eu@pacte.test"
    assert opened.get_body(("html",)) is not None

    services.ticket_reply(ticket=ticket, author=agent, body="Nous regardons.")
    (reply,) = delivered()
    assert reply["Subject"] == f"Re: [{ticket.reference}] Export vide"
    assert reply["In-Reply-To"] == opened["Message-ID"]
    assert reply["References"].split() == [opened["Message-ID"]]
    assert "Auto-Submitted" not in reply  # a person wrote it: auto-responders may answer
    reply_text = reply.get_body(("plain",)).get_content()
    assert "Nous regardons." in reply_text
    assert "(Pris en compte)" in reply_text  # the status the reply brought

    services.ticket_change_status(ticket=ticket, actor=agent, status=Status.WAITING_ON_CUSTOMER)
    (waiting,) = delivered()
    assert "Nous avons besoin de votre réponse" in waiting.get_body(("plain",)).get_content()
    assert waiting["In-Reply-To"] == reply["Message-ID"]
    assert waiting["References"].split() == [opened["Message-ID"], reply["Message-ID"]]

    services.ticket_change_status(ticket=ticket, actor=agent, status=Status.RESOLVED)
    (resolved,) = delivered()
    assert "est résolu" in resolved.get_body(("plain",)).get_content()
    assert OutboundMail.objects.filter(ticket=ticket, kind=OutboundMail.Kind.RESOLVED).exists()
    ids = [m["Message-ID"] for m in (opened, reply, waiting, resolved)]
    assert len(set(ids)) == 4


def test_english_for_an_english_contact_and_nothing_for_notes_calls_or_own_actions(
    mail_world: MailWorld,
) -> None:
    bob = mail_world.bob
    agent = mail_world.world.agent_fr  # Globex is served by the France desk
    ticket = open_ticket(bob, subject="Export empty")
    (opened,) = delivered()
    assert "We have received your request" in opened.get_body(("plain",)).get_content()
    services.ticket_reply(ticket=ticket, author=agent, body="note", internal=True)
    services.ticket_reply(ticket=ticket, author=agent, body="Called Bob.", channel="phone")
    assert delivered() == []  # an internal note, a call the customer was on
    services.ticket_change_status(ticket=ticket, actor=bob.user, status=Status.CLOSED)  # type: ignore[arg-type]
    assert delivered() == []  # the customer's own action


def test_a_failing_smtp_server_leaves_the_mail_to_retry_then_gives_up(
    mail_world: MailWorld, settings: object
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"  # type: ignore[attr-defined]
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # type: ignore[attr-defined]
    settings.EMAIL_TIMEOUT = 2  # type: ignore[attr-defined]
    open_ticket(mail_world.alice)
    outbound = OutboundMail.objects.get()
    assert mail_sweep_task()["sent"] == 0
    outbound.refresh_from_db()
    assert outbound.state == OutboundMail.State.PENDING and outbound.attempts == 1
    assert outbound.error
    for _ in range(MAX_ATTEMPTS):
        outbound_send(outbound_id=outbound.pk, now=timezone.now())
    outbound.refresh_from_db()
    assert outbound.state == OutboundMail.State.FAILED and outbound.attempts == MAX_ATTEMPTS


def test_a_mail_claimed_by_a_worker_that_died_is_sent_after_the_lease(
    mail_world: MailWorld,
) -> None:
    open_ticket(mail_world.alice)
    outbound = OutboundMail.objects.get()
    now = timezone.now()
    OutboundMail.objects.filter(pk=outbound.pk).update(
        state=OutboundMail.State.SENDING, sending_since=now
    )
    assert not outbound_send(outbound_id=outbound.pk, now=now)  # still leased to the other
    assert outbound_send(outbound_id=outbound.pk, now=now + timedelta(minutes=11))
    assert not outbound_send(outbound_id=outbound.pk, now=now + timedelta(minutes=30))
    assert len(mail.outbox) == 1


def test_one_stored_mail_that_still_fails_does_not_hold_up_the_others(
    mail_world: MailWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sweep handles mail stored but never handled; a mail whose handling raises (a bug,
    a disk error while quarantining) is logged and left for the next sweep, and the mail after
    it is still handled."""
    old = timezone.now() - timedelta(minutes=10)
    stuck = [
        InboundMail.objects.create(
            key=f"<stuck-{n}@acme.test>",
            source=InboundMail.Source.PIPE,
            raw=build_mail(message_id=f"<stuck-{n}@acme.test>"),
            size=1,
            received_at=old,
        )
        for n in range(2)
    ]
    failing = max(m.pk for m in stuck)  # whichever of the two the sweep takes first

    def flaky(*, inbound_id: int) -> InboundMail:
        if inbound_id == failing:
            raise RuntimeError("disk full")
        return mail_process(inbound_id=inbound_id)

    monkeypatch.setattr(tasks, "mail_process", flaky)
    assert mail_sweep_task()["handled"] == 1
    statuses = dict(InboundMail.objects.values_list("pk", "status"))
    assert statuses[failing] == InboundMail.Status.RECEIVED  # left for the next sweep
    assert statuses[min(m.pk for m in stuck)] == InboundMail.Status.TICKETED
