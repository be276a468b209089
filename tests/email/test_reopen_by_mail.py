"""A customer's mail to a resolved ticket: it reopens the ticket within PACTE_REOPEN_DAYS;
past them it is a new ticket (issue 23)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.email.clients import gmail
from tests.email.conftest import MailWorld
from tickets import services
from tickets.channels.email.ingest import mail_receive
from tickets.models import InboundMail, Status, Ticket

pytestmark = pytest.mark.django_db
MONDAY = datetime(2026, 11, 16, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))


PIPE = InboundMail.Source.PIPE


def _reply(number: int) -> InboundMail:
    return mail_receive(
        raw=gmail(
            subject="Re: Export",
            message_id=f"<a{number}@mail.gmail.com>",
            in_reply_to="<a1@mail.gmail.com>",
            references="<a1@mail.gmail.com>",
        ),
        source=PIPE,
    ).inbound


def test_a_mail_reply_reopens_within_the_window_and_opens_a_new_ticket_past_it(
    mail_world: MailWorld,
) -> None:
    """Nothing is lost either way, and past the window the old ticket stays as it was."""
    agent = mail_world.world.agent_eu
    with time_machine.travel(MONDAY):
        raw = gmail(subject="Export", message_id="<a1@mail.gmail.com>")
        ticket = mail_receive(raw=raw, source=PIPE).inbound.ticket
        assert ticket is not None
        services.ticket_reply(ticket=ticket, author=agent, body="Fixed.", then_status="resolved")
    with time_machine.travel(MONDAY + timedelta(days=6)):
        within = _reply(2)
    assert (within.status, within.ticket) == (InboundMail.Status.APPENDED, ticket)
    assert Ticket.objects.get(pk=ticket.pk).status == Status.IN_PROGRESS
    with time_machine.travel(MONDAY + timedelta(days=6, hours=1)):
        services.ticket_reply(ticket=ticket, author=agent, body="Again.", then_status="resolved")
    with time_machine.travel(MONDAY + timedelta(days=13, hours=2)):
        late = _reply(3)
    assert late.status == InboundMail.Status.TICKETED and late.ticket not in (None, ticket)
    assert Ticket.objects.get(pk=ticket.pk).status == Status.RESOLVED
    assert late.ticket.subject == "Re: Export"
