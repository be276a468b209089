"""Chat pages: starting a conversation, its page, and the agents' list of waiting chats."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from tests.factories import World, client_for
from tickets.models import ChatSession, Ticket

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")


def test_a_customer_starts_a_chat_and_the_desk_sees_it_waiting(world: World) -> None:
    customer = client_for(world.alice.user)
    with time_machine.travel(datetime(2026, 6, 8, 10, 0, tzinfo=BERLIN), tick=False):
        assert customer.get(reverse("chat:start")).status_code == 200
        response = customer.post(
            reverse("chat:start"), {"severity": "major", "text": "Kiosk <script>x</script>"}
        )
    ticket = Ticket.objects.get()
    assert response["Location"] == reverse("chat:room", args=[ticket.reference])
    assert ticket.channel == "chat" and ticket.chat.state == ChatSession.State.WAITING
    assert (
        reverse("chat:room", args=[ticket.reference])
        in customer.get(reverse("tickets:detail", args=[ticket.reference])).content.decode()
    )
    room = customer.get(response["Location"]).content.decode()
    assert 'id="chat"' in room and 'data-role="customer"' in room
    waiting = client_for(world.agent_eu).get(reverse("chat:waiting")).content.decode()
    assert ticket.subject not in waiting  # escaped, never raw HTML
    assert "Kiosk &lt;script&gt;x&lt;/script&gt;" in waiting
    assert "1 chat waiting" in waiting
    assert (
        "chat waiting"
        not in client_for(world.agent_fr).get(reverse("chat:waiting")).content.decode()
    )


def test_outside_hours_the_form_says_so_and_the_message_is_a_ticket(world: World) -> None:
    customer = client_for(world.alice.user)
    with time_machine.travel(datetime(2026, 6, 6, 10, 0, tzinfo=BERLIN), tick=False):
        page = customer.get(reverse("chat:start")).content.decode()
        assert "Support is closed now" in page and "Leave the message" in page
        customer.post(reverse("chat:start"), {"severity": "minor", "text": "Saturday question"})
    assert Ticket.objects.get().chat.state == ChatSession.State.ENDED


def test_chat_pages_are_for_the_contact_and_the_desk(world: World) -> None:
    with time_machine.travel(datetime(2026, 6, 8, 10, 0, tzinfo=BERLIN), tick=False):
        client_for(world.alice.user).post(
            reverse("chat:start"), {"severity": "minor", "text": "Hi"}
        )
    ref = Ticket.objects.get().reference
    room = reverse("chat:room", args=[ref])
    assert client_for(world.bob.user).get(room).status_code == 404
    assert client_for(world.agent_fr).get(room).status_code == 404
    assert 'data-role="agent"' in client_for(world.agent_eu).get(room).content.decode()
    assert client_for(world.alice.user).get(reverse("chat:waiting")).status_code == 404
    assert client_for(world.agent_eu).post(reverse("chat:start"), {"text": "x"}).status_code == 404
    bad = client_for(world.alice.user).post(reverse("chat:start"), {"severity": "x", "text": ""})
    assert bad.status_code == 400 and Ticket.objects.count() == 1


def test_the_room_opens_on_the_lines_so_far_without_a_websocket(world: World) -> None:
    """The conversation is on the page as it opens, escaped, in the reader's zone, with no
    internal note; the WebSocket then brings only later lines (chat.js starts after them)."""
    from tickets import services

    with time_machine.travel(datetime(2026, 6, 8, 10, 0, tzinfo=BERLIN), tick=False):
        client_for(world.alice.user).post(
            reverse("chat:start"), {"severity": "minor", "text": "Kiosk <b>frozen</b>"}
        )
        ticket = Ticket.objects.get()
        services.ticket_reply(ticket=ticket, author=world.agent_eu, body="Note", internal=True)
    room = reverse("chat:room", args=[ticket.reference])
    customer = client_for(world.alice.user).get(room).content.decode()
    first = ticket.messages.order_by("pk").first()
    assert first is not None
    assert f'<li class="chat-line from-customer mine" data-id="{first.pk}">' in customer
    assert "Kiosk &lt;b&gt;frozen&lt;/b&gt;" in customer and ">10:00</time>" in customer
    assert "Waiting for an agent…" in customer and 'data-state="waiting"' in customer
    agent = client_for(world.agent_eu).get(room).content.decode()
    assert f'<li class="chat-line from-customer" data-id="{first.pk}">' in agent
    assert "Note" not in agent.split('class="chat-lines"')[1].split("</ol>")[0]
