"""Working a ticket (issue 23, point 3): what an agent does many times a day, in one action."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from email.header import decode_header, make_header
from zoneinfo import ZoneInfo

import pytest
import time_machine

from sla.models import Clock
from tests.accounts.second_factor import pass_second_factor
from tests.factories import World, client_for, open_ticket
from tickets import services
from tickets.exceptions import TicketError
from tickets.models import Message, OutboundMail, Status, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _a_wednesday() -> Iterator[None]:
    """A working Wednesday morning in June, whatever day the tests run."""
    with time_machine.travel(datetime(2026, 6, 17, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))):
        yield


def _agent(world: World):  # type: ignore[no-untyped-def]
    client = client_for(world.agent_eu)
    pass_second_factor(client, world.agent_eu)
    return client


def test_send_and_mark_resolved_is_one_action_and_one_mail(world: World) -> None:
    """The reply acknowledges the new ticket, then resolves it: every clock stops, the history
    shows both, and the customer gets one mail, the reply, saying it is resolved and how to
    reopen it."""
    ticket = open_ticket(world.alice)
    agent = _agent(world)
    page = agent.get(f"/tickets/{ticket.reference}/").content.decode()
    assert 'name="then" value="resolved"' in page
    assert 'name="then" value="waiting_on_customer"' in page
    response = agent.post(
        f"/tickets/{ticket.reference}/reply/",
        {"body": "Fixed: restart the kiosk.", "then": "resolved"},
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED
    assert not ticket.clocks.exclude(state=Clock.State.STOPPED).exists()
    mails = OutboundMail.objects.filter(ticket=ticket).exclude(kind=OutboundMail.Kind.OPENED)
    assert [m.kind for m in mails] == [OutboundMail.Kind.REPLY]
    text = mails[0].text
    sender = str(make_header(decode_header(mails[0].from_address)))
    assert sender.startswith("Acme support — Europe <")
    assert "Fixed: restart the kiosk." in text and "(Resolved)" in text
    assert "reply to this mail within 7 days: the ticket reopens" in text


def test_send_and_mark_waiting_pauses_the_clocks(world: World) -> None:
    ticket = open_ticket(world.alice)
    services.ticket_reply(
        ticket=ticket, author=world.agent_eu, body="Which kiosk?", then_status="waiting_on_customer"
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.WAITING_ON_CUSTOMER
    assert ticket.clocks.filter(state=Clock.State.PAUSED).exists()
    page = _agent(world).get(f"/tickets/{ticket.reference}/").content.decode()
    assert 'value="waiting_on_customer"' not in page  # already waiting: only "and resolved"
    assert 'name="then" value="resolved"' in page


def test_reply_and_status_refused_together_nothing_written(world: World) -> None:
    """A note cannot set a status; a customer cannot; a status the workflow refuses after the
    reply refuses the reply too: nothing is stored, nothing mailed."""
    ticket = open_ticket(world.alice)
    before = (Message.objects.count(), OutboundMail.objects.count())
    for author, kwargs in [
        (world.agent_eu, {"internal": True, "then_status": "resolved"}),
        (world.agent_eu, {"then_status": "closed"}),
        (world.alice.user, {"then_status": "resolved"}),
    ]:
        with pytest.raises(TicketError):
            services.ticket_reply(ticket=ticket, author=author, body="Hello", **kwargs)
    services.ticket_change_status(ticket=ticket, actor=world.agent_eu, status="resolved")
    resolved = (Message.objects.count(), OutboundMail.objects.count())
    assert resolved[0] == before[0]
    page = _agent(world).post(
        f"/tickets/{ticket.reference}/reply/", {"body": "Done?", "then": "waiting_on_customer"}
    )
    assert page.status_code == 400 and "cannot become" in page.content.decode()
    assert (Message.objects.count(), OutboundMail.objects.count()) == resolved
    assert Ticket.objects.get(pk=ticket.pk).status == Status.RESOLVED
