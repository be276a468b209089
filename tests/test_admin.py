"""Managers configure calendars, policies and desks in the admin; nobody else does."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.test import Client
from django.utils import timezone

from sla.availability import outages
from sla.availability.selectors import availability_of
from sla.models import Calendar, Outage
from tests.factories import World, open_ticket
from tickets.models import Ticket

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


# --- outages: written through sla.availability.outages -----------------------------------------


def manager_client(world: World) -> Client:
    world.manager.is_staff = True
    world.manager.save()
    client = Client()
    client.force_login(world.manager)
    return client


def outage_form(world: World, tickets: list[Ticket], **overrides: str) -> dict[str, str]:
    data = {
        "organization": str(world.acme.pk),
        "title": "API down",
        "started_at_0": "2026-06-01",
        "started_at_1": "10:00:00",
        "ended_at_0": "2026-06-01",
        "ended_at_1": "12:00:00",
        "tickets": ",".join(str(t.pk) for t in tickets),
    }
    data.update(overrides)
    return data


def test_an_outage_added_in_the_admin_is_recorded_by_the_service(world: World) -> None:
    client = manager_client(world)
    blocking = open_ticket(world.alice, severity="blocking")
    response = client.post("/admin/sla/outage/add/", outage_form(world, [blocking]))
    assert response.status_code == 302
    outage = Outage.objects.get()
    paris = ZoneInfo("Europe/Paris")
    assert (outage.organization, outage.title) == (world.acme, "API down")
    assert outage.started_at == datetime(2026, 6, 1, 10, tzinfo=paris)
    assert outage.ended_at == datetime(2026, 6, 1, 12, tzinfo=paris)
    assert list(outage.tickets.all()) == [blocking]
    # The admin's own record of the change names the row the service wrote.
    entry = LogEntry.objects.get()
    assert entry.object_id == str(outage.pk) and entry.action_flag == ADDITION
    assert response["Location"] == "/admin/sla/outage/"
    # Measured from that row: two hours of downtime in June.
    june = availability_of(
        world.acme,
        start=datetime(2026, 6, 1, tzinfo=paris),
        end=datetime(2026, 7, 1, tzinfo=paris),
        now=datetime(2026, 7, 1, tzinfo=paris),
    )
    assert june.downtime == timedelta(hours=2)


def test_the_admin_refuses_what_the_outage_service_refuses(world: World) -> None:
    client = manager_client(world)
    minor = open_ticket(world.alice, severity="minor")
    response = client.post("/admin/sla/outage/add/", outage_form(world, [minor]))
    assert response.status_code == 200
    assert "not a blocking ticket" in response.content.decode()
    backwards = outage_form(world, [], ended_at_1="09:00:00")
    response = client.post("/admin/sla/outage/add/", backwards)
    assert response.status_code == 200 and "ends after it starts" in response.content.decode()
    assert not Outage.objects.exists()


def test_an_outage_changed_and_deleted_in_the_admin_goes_through_the_service(
    world: World,
) -> None:
    client = manager_client(world)
    blocking = open_ticket(world.alice, severity="blocking")
    outage = outages.outage_record(
        organization=world.acme, title="Down", started_at=timezone.now() - timedelta(hours=1)
    )
    change = outage_form(world, [blocking], title="Database down")
    response = client.post(f"/admin/sla/outage/{outage.pk}/change/", change)
    assert response.status_code == 302
    outage.refresh_from_db()
    assert outage.title == "Database down" and list(outage.tickets.all()) == [blocking]
    assert outage.ended_at == datetime(2026, 6, 1, 12, tzinfo=ZoneInfo("Europe/Paris"))
    response = client.post(f"/admin/sla/outage/{outage.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not Outage.objects.exists()
    for title in ("One", "Two"):
        outages.outage_record(organization=world.acme, title=title, started_at=timezone.now())
    action = {
        "action": "delete_selected",
        "post": "yes",
        "_selected_action": [str(pk) for pk in Outage.objects.values_list("pk", flat=True)],
    }
    response = client.post("/admin/sla/outage/", action)
    assert response.status_code == 302 and not Outage.objects.exists()
