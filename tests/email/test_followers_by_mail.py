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
