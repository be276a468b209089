"""The customer's side of a resolved ticket (issue 23, point 4): reopening it within
PACTE_REOPEN_DAYS by a button or a reply; past that it closes, and the customer is told how
to go on; closing asks first."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from tests.factories import World, client_for, open_ticket
from tickets import services
from tickets.models import Message, Status, Ticket, TicketEvent

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = datetime(2026, 11, 16, 10, 0, tzinfo=BERLIN)


@pytest.fixture(autouse=True)
def monday() -> Iterator[None]:
    with time_machine.travel(MONDAY, tick=False):
        yield


def _resolved(world: World) -> Ticket:
    ticket = open_ticket(world.alice, subject="Receipts do not print")
    services.ticket_reply(
        ticket=ticket, author=world.agent_eu, body="Fixed.", then_status="resolved"
    )
    ticket.refresh_from_db()
    return ticket


def _page(client: Client, ticket: Ticket) -> str:
    response = client.get(f"/tickets/{ticket.reference}/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_customer_reopens_within_the_window(world: World, settings: object) -> None:
    settings.PACTE_REOPEN_DAYS = 7  # type: ignore[attr-defined]
    ticket = _resolved(world)
    alice = client_for(world.alice.user)
    page = _page(alice, ticket)
    assert "Reopen this ticket" in page and "until Mon 23 Nov 2026, 10:00" in page
    with time_machine.travel(MONDAY + timedelta(days=6, hours=23)):
        assert alice.post(f"/tickets/{ticket.reference}/reopen/").status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS
    event = TicketEvent.objects.filter(ticket=ticket, kind="status").latest("pk")
    assert (event.after, event.note, event.actor) == (
        "in_progress",
        "reopened by the customer",
        world.alice.user,
    )
    # Another organization's customer cannot.
    services.ticket_change_status(ticket=ticket, actor=world.agent_eu, status="resolved")
    assert (
        client_for(world.bob.user).post(f"/tickets/{ticket.reference}/reopen/").status_code == 404
    )
    assert Ticket.objects.get(pk=ticket.pk).status == Status.RESOLVED


def test_past_the_window_the_page_says_so_and_nothing_changes(world: World) -> None:
    ticket = _resolved(world)
    alice = client_for(world.alice.user)
    messages = Message.objects.count()
    with time_machine.travel(MONDAY + timedelta(days=7, minutes=1)):
        page = _page(alice, ticket)
        assert "Reopen this ticket" not in page and 'name="body"' not in page
        assert "resolved over 7 days ago" in page and 'href="/tickets/new/"' in page
        alice.post(f"/tickets/{ticket.reference}/reopen/")
        reply = alice.post(f"/tickets/{ticket.reference}/reply/", {"body": "Still broken"})
        assert reply.status_code == 400 and "resolved over 7 days ago" in reply.content.decode()
    assert Ticket.objects.get(pk=ticket.pk).status == Status.RESOLVED
    assert Message.objects.count() == messages


def test_the_sweep_closes_resolved_tickets_once_the_window_is_over(world: World) -> None:
    late = _resolved(world)
    with time_machine.travel(MONDAY + timedelta(days=3)):
        recent = _resolved(world)
        reopened = _resolved(world)
        services.ticket_reopen(ticket=reopened, actor=world.alice.user)
    assert services.tickets_close_resolved(now=MONDAY + timedelta(days=7, seconds=1)) == 1
    statuses = dict(Ticket.objects.values_list("pk", "status"))
    assert statuses[late.pk] == Status.CLOSED
    assert (statuses[recent.pk], statuses[reopened.pk]) == (Status.RESOLVED, Status.IN_PROGRESS)
    event = TicketEvent.objects.filter(ticket=late, kind="status").latest("pk")
    assert (event.after, event.actor, event.note) == (
        "closed",
        None,
        "resolved and not reopened in time",
    )
    assert services.tickets_close_resolved(now=MONDAY + timedelta(days=10, seconds=1)) == 1


def test_closing_asks_first(world: World) -> None:
    ticket = open_ticket(world.alice)
    page = _page(client_for(world.alice.user), ticket)
    close = page[page.index('<details class="confirm" id="close-ticket">') :]
    close = close[: close.index("</details>")]
    assert "Close this ticket" in close and "Yes, close it" in close
    assert "you will no longer be able to reply" in close
