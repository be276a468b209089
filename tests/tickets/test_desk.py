"""The agent's queue and ticket page: order, actions, and SQL that does not grow with rows."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sla.models import Clock
from tests.factories import World, open_ticket
from tickets.models import Message, Status

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def agent(world: World) -> Client:
    client = Client()
    client.force_login(world.agent_eu)
    return client


def test_queue_lists_my_desks_open_tickets_nearest_deadline_first(
    world: World, agent: Client
) -> None:
    monday = datetime(2026, 6, 8, 9, 0, tzinfo=BERLIN)
    minor = open_ticket(world.alice, subject="minor one", severity="minor", received_at=monday)
    blocking = open_ticket(
        world.alice,
        subject="blocking one",
        severity="blocking",
        received_at=monday + timedelta(hours=2),
    )
    open_ticket(world.bob, subject="other desk")
    closed = open_ticket(world.alice, subject="closed one")
    from tickets import services

    services.ticket_change_status(ticket=closed, actor=world.agent_eu, status=Status.CLOSED)
    page = agent.get(reverse("desk:queue")).content.decode()
    assert "other desk" not in page and "closed one" not in page
    assert page.index(blocking.subject) < page.index(minor.subject)


def test_customers_have_no_queue(world: World) -> None:
    client = Client()
    client.force_login(world.alice.user)  # type: ignore[arg-type]
    assert client.get(reverse("desk:queue")).status_code == 404


def test_agent_claims_replies_notes_and_reclassifies(world: World, agent: Client) -> None:
    ticket = open_ticket(world.alice)
    ref = ticket.reference
    agent.post(reverse("tickets:assign", args=[ref]), {"claim": "1"})
    agent.post(reverse("tickets:reply", args=[ref]), {"body": "Looking into it."})
    agent.post(reverse("tickets:reply", args=[ref]), {"body": "db lock?", "internal": "on"})
    response = agent.post(
        reverse("tickets:reclassify", args=[ref]), {"severity": "blocking", "reason": ""}
    )
    assert response.status_code == 400 and "This field is required" in response.content.decode()
    before = {c.metric: c.due_at for c in Clock.objects.filter(ticket=ticket)}
    preview = agent.post(
        reverse("tickets:reclassify", args=[ref]),
        {"severity": "blocking", "reason": "All users affected"},
    )
    # First the new deadlines are shown, nothing changes; then the agent confirms.
    assert preview.status_code == 200
    assert "Confirm the change" in preview.content.decode()
    ticket.refresh_from_db()
    assert ticket.severity == "major"
    assert {c.metric: c.due_at for c in Clock.objects.filter(ticket=ticket)} == before
    shown = [p.due_after for p in preview.context["preview"]]
    agent.post(
        reverse("tickets:reclassify", args=[ref]),
        {"severity": "blocking", "reason": "All users affected", "confirm": "1"},
    )
    assert [c.due_at for c in Clock.objects.filter(ticket=ticket).order_by("metric")] == shown
    ticket.refresh_from_db()
    assert ticket.assignee == world.agent_eu
    assert ticket.status == Status.ACKNOWLEDGED and ticket.severity == "blocking"
    notes = Message.objects.filter(ticket=ticket, is_internal=True)
    assert [m.body for m in notes] == ["db lock?"]
    page = agent.get(reverse("tickets:detail", args=[ref])).content.decode()
    assert "db lock?" in page and "All users affected" in page


def test_status_form_offers_only_allowed_transitions(world: World, agent: Client) -> None:
    ticket = open_ticket(world.alice)
    page = agent.get(reverse("tickets:detail", args=[ticket.reference])).content.decode()
    assert '<option value="acknowledged"' in page
    assert '<option value="waiting_on_customer"' not in page  # (a reply may: it acknowledges first)
    response = agent.post(
        reverse("tickets:status", args=[ticket.reference]),
        {"status": "waiting_on_customer"},
        follow=True,
    )
    assert "cannot become" in response.content.decode()


def count_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_pages_query_counts_do_not_grow_with_rows(world: World, agent: Client) -> None:
    first = open_ticket(world.alice)
    from tickets import services

    services.ticket_assign(ticket=first, actor=world.agent_eu, assignee=world.manager)  # names read
    queue = count_queries(agent, reverse("desk:queue"))
    page = count_queries(agent, reverse("tickets:detail", args=[first.reference]))
    customer = Client()
    customer.force_login(world.amir.user)  # type: ignore[arg-type]
    mine = count_queries(customer, reverse("tickets:list"))
    for n in range(12):
        ticket = open_ticket(world.alice if n % 2 else world.amir, subject=f"t{n}")
        services.ticket_reply(ticket=first, author=world.agent_eu, body=f"reply {n}")
        services.ticket_assign(ticket=ticket, actor=world.agent_eu, assignee=world.agent_eu)
    assert count_queries(agent, reverse("desk:queue")) == queue
    assert count_queries(agent, reverse("tickets:detail", args=[first.reference])) == page
    assert count_queries(customer, reverse("tickets:list")) == mine


def test_agent_logs_a_phone_call_which_acknowledges(world: World, agent: Client) -> None:
    ticket = open_ticket(world.alice)
    agent.post(
        reverse("tickets:reply", args=[ticket.reference]),
        {"body": "Called: the export works again after a restart.", "phone_call": "on"},
    )
    message = Message.objects.filter(ticket=ticket, from_agent=True).get()
    assert message.channel == "phone" and not message.is_internal
    page = agent.get(reverse("tickets:detail", args=[ticket.reference])).content.decode()
    assert "Phone call logged" in page


def test_customer_form_has_no_agent_options(world: World) -> None:
    ticket = open_ticket(world.alice)
    customer = Client()
    customer.force_login(world.alice.user)  # type: ignore[arg-type]
    page = customer.get(reverse("tickets:detail", args=[ticket.reference])).content.decode()
    assert 'name="internal"' not in page and 'name="phone_call"' not in page
    customer.post(
        reverse("tickets:reply", args=[ticket.reference]), {"body": "hello", "phone_call": "on"}
    )
    assert ticket.messages.last().channel == "web"  # type: ignore[union-attr]
