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


def calendar_form(**overrides: str) -> dict[str, str]:
    data = {
        "slug": "lyon",
        "name": "Lyon",
        "time_zone": "Europe/Paris",
        "holiday_country": "FR",
        "holiday_subdivision": "",
        "intervals-TOTAL_FORMS": "2",
        "intervals-INITIAL_FORMS": "0",
        "intervals-MIN_NUM_FORMS": "0",
        "intervals-MAX_NUM_FORMS": "1000",
        "intervals-0-weekday": "0",
        "intervals-0-start_minute": "540",
        "intervals-0-end_minute": "720",
        "intervals-1-weekday": "0",
        "intervals-1-start_minute": "780",
        "intervals-1-end_minute": "1020",
        "closures-TOTAL_FORMS": "0",
        "closures-INITIAL_FORMS": "0",
        "closures-MIN_NUM_FORMS": "0",
        "closures-MAX_NUM_FORMS": "1000",
        "extra_openings-TOTAL_FORMS": "0",
        "extra_openings-INITIAL_FORMS": "0",
        "extra_openings-MIN_NUM_FORMS": "0",
        "extra_openings-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"intervals-1-start_minute": "700"}, "must not overlap"),
        ({"holiday_country": "XX"}, "does not know"),
        ({"holiday_country": "DE", "holiday_subdivision": "ZZ"}, "does not know"),
        ({"holiday_country": "", "holiday_subdivision": "NW"}, "needs its country"),
        ({"time_zone": "Mars/Olympus"}, "not a known time zone"),
        ({"intervals-1-end_minute": "1500"}, "less than or equal to 1440"),
    ],
)
def test_manager_cannot_save_a_broken_calendar(
    world: World, overrides: dict[str, str], error: str
) -> None:
    world.manager.is_staff = True
    world.manager.save()
    client = Client()
    client.force_login(world.manager)
    response = client.post("/admin/sla/calendar/add/", calendar_form(**overrides))
    assert response.status_code == 200 and error in response.content.decode()
    assert not Calendar.objects.filter(slug="lyon").exists()


def test_manager_saves_a_lunch_break_calendar(world: World) -> None:
    world.manager.is_staff = True
    world.manager.save()
    client = Client()
    client.force_login(world.manager)
    response = client.post("/admin/sla/calendar/add/", calendar_form())
    assert response.status_code == 302
    assert Calendar.objects.get(slug="lyon").intervals.count() == 2
