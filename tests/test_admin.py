"""Managers configure calendars, policies and desks in the admin; nobody else does."""

from __future__ import annotations

import pytest
from django.test import Client

from sla.models import Calendar
from tests.factories import World, open_ticket

pytestmark = pytest.mark.django_db


def test_manager_edits_calendars_and_reads_tickets(world: World) -> None:
    world.manager.is_staff = True
    world.manager.save()
    client = Client()
    client.force_login(world.manager)
    index = client.get("/admin/").content.decode()
    assert "Calendars" in index and "SLA policies" in index and "Desks" in index
    europe = Calendar.objects.get(slug="europe")
    assert client.get(f"/admin/sla/calendar/{europe.pk}/change/").status_code == 200
    ticket = open_ticket(world.alice)
    assert client.get(f"/admin/tickets/ticket/{ticket.pk}/change/").status_code == 200
    assert (
        client.post(f"/admin/tickets/ticket/{ticket.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )


@pytest.mark.parametrize("who", ["agent_eu", "alice"])
def test_agents_and_customers_have_no_admin(world: World, who: str) -> None:
    user = world.agent_eu if who == "agent_eu" else world.alice.user
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    response = client.get("/admin/sla/calendar/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
