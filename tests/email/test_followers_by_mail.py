"""A customer's mail copying colleagues (Cc) makes them followers of the ticket: they are
copied on its public updates. Strangers copied are not (issue 23)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.email.clients import gmail
from tests.email.conftest import MailWorld
from tickets import services
from tickets.channels.email.ingest import mail_receive
from tickets.models import Follower, InboundMail, OutboundMail

pytestmark = pytest.mark.django_db
MONDAY = datetime(2026, 11, 16, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))


@time_machine.travel(MONDAY)
def test_colleagues_copied_on_the_mail_follow_the_ticket(mail_world: MailWorld) -> None:
    raw = gmail(
        subject="Export vide",
        message_id="<cc1@mail.gmail.com>",
        cc="Amir <AMIR@acme.test>, Bob <bob@globex.test>, eve@unknown.test",
    )
    inbound = mail_receive(raw=raw, source=InboundMail.Source.PIPE).inbound
    ticket = inbound.ticket
    assert ticket is not None
    assert list(Follower.objects.filter(ticket=ticket).values_list("contact", flat=True)) == [
        mail_world.amir.pk
    ]
    services.ticket_reply(ticket=ticket, author=mail_world.world.agent_eu, body="On regarde.")
    reply = OutboundMail.objects.get(ticket=ticket, kind=OutboundMail.Kind.REPLY)
    assert reply.cc_addresses == "amir@acme.test"
    from tickets.services.customer_mail import _email

    sent = _email(reply).message()
    assert sent["Cc"] == "amir@acme.test" and sent["To"].endswith("<alice@acme.test>")


@time_machine.travel(MONDAY)
def test_a_colleague_cannot_copy_themselves_into_a_ticket_by_mail(mail_world: MailWorld) -> None:
    """A colleague of the same organization who is not the requester names the
    ticket in a subject and copies themselves and another: nobody is added."""
    from tests.factories import ContactFactory

    opening = mail_receive(
        raw=gmail(subject="Export vide", message_id="<o1@mail.gmail.com>"),
        source=InboundMail.Source.PIPE,
    ).inbound
    ticket = opening.ticket
    assert ticket is not None
    ContactFactory(organization=mail_world.acme, email="zoe@acme.test", user=None)
    nosy = ContactFactory(organization=mail_world.acme, email="nosy@acme.test", user=None)
    reply = gmail(
        sender=f"{nosy.name} <nosy@acme.test>",
        subject=f"Re: [{ticket.reference}] Export vide",
        message_id="<o2@mail.gmail.com>",
        cc="nosy@acme.test, zoe@acme.test",
    )
    mail_receive(raw=reply, source=InboundMail.Source.PIPE)
    assert not Follower.objects.filter(ticket=ticket).exists()
