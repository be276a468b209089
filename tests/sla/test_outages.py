"""Outages and maintenance windows: the services' rules, and availability measured from the
database in two queries."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from sla.availability import outages
from sla.availability.selectors import availability_of, error_budget_of
from sla.exceptions import SlaError
from sla.models import MaintenanceWindow, Outage
from tests.factories import World, client_for, open_ticket
from tickets.models import User

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")
JUNE = datetime(2026, 6, 1, tzinfo=BERLIN)
H = timedelta(hours=1)


def test_an_outage_names_the_blocking_tickets_of_its_organization(world: World) -> None:
    blocking = open_ticket(world.alice, severity="blocking")
    outage = outages.outage_record(
        organization=world.acme, title="API down", started_at=JUNE, tickets=[blocking]
    )
    assert outage.is_ongoing and list(outage.tickets.all()) == [blocking]
    minor = open_ticket(world.alice, severity="minor")
    foreign = open_ticket(world.bob, severity="blocking")
    for ticket, reason in ((minor, "not a blocking ticket"), (foreign, "another organization")):
        with pytest.raises(SlaError, match=reason):
            outages.outage_link_tickets(outage=outage, tickets=[ticket])
        with pytest.raises(SlaError, match=reason):
            outages.outage_record(
                organization=world.acme, title="x", started_at=JUNE, tickets=[ticket]
            )
    assert Outage.objects.count() == 1 and outage.tickets.count() == 1


def test_an_outage_ends_once_and_after_it_began(world: World) -> None:
    outage = outages.outage_record(organization=world.acme, title="Down", started_at=JUNE)
    with pytest.raises(SlaError, match="ends after it starts") as error:
        outages.outage_end(outage=outage, ended_at=JUNE - H)
    assert error.value.field == "ended_at"
    outages.outage_end(outage=outage, ended_at=JUNE + H)
    with pytest.raises(SlaError, match="already ended"):
        outages.outage_end(outage=outage, ended_at=JUNE + 2 * H)
    outage.refresh_from_db()
    assert outage.ended_at == JUNE + H


def test_a_maintenance_window_ends_after_it_starts(world: World) -> None:
    with pytest.raises(SlaError, match="ends after it starts"):
        outages.maintenance_announce(
            organization=world.acme,
            title="Upgrade",
            starts_at=JUNE,
            ends_at=JUNE,
            announced_at=JUNE - 24 * H,
        )
    assert not MaintenanceWindow.objects.exists()


def test_availability_from_the_database(world: World, django_assert_num_queries: object) -> None:
    acme = world.acme
    outages.outage_record(
        organization=acme, title="DB failover", started_at=JUNE + 10 * H, ended_at=JUNE + 12 * H
    )
    outages.outage_record(  # before the period: not counted
        organization=acme, title="Old", started_at=JUNE - 48 * H, ended_at=JUNE - 47 * H
    )
    outages.outage_record(  # another organization's
        organization=world.globex, title="Globex", started_at=JUNE, ended_at=JUNE + 5 * H
    )
    outages.maintenance_announce(
        organization=acme,
        title="Release 4.2",
        starts_at=JUNE + 11 * H,
        ends_at=JUNE + 13 * H,
        announced_at=JUNE - 72 * H,
    )
    outages.maintenance_announce(  # announced too late: not planned
        organization=acme,
        title="Hotfix",
        starts_at=JUNE + 20 * H,
        ends_at=JUNE + 21 * H,
        announced_at=JUNE + 20 * H,
    )
    end = JUNE + 24 * H
    with django_assert_num_queries(2):  # type: ignore[operator]
        figures = availability_of(acme, start=JUNE, end=end, now=end)
    assert figures.downtime == H and figures.planned == 2 * H
    assert figures.ratio == 1 - Decimal(1) / 22


def test_error_budget_of_an_organization(world: World) -> None:
    world.acme.availability_commitment = Decimal("99.800")
    world.acme.save(update_fields=["availability_commitment"])
    outages.outage_record(
        organization=world.acme, title="Down", started_at=JUNE, ended_at=JUNE + 5 * H
    )
    budget = error_budget_of(world.acme, year=2026, zone=BERLIN, now=JUNE + 30 * 24 * H)
    assert budget.allowed == timedelta(hours=17, minutes=31, seconds=12)
    assert budget.used == 5 * H and budget.left == timedelta(hours=12, minutes=31, seconds=12)


def test_managers_record_outages_in_the_admin_with_the_same_rules(world: World) -> None:
    admin = User.objects.create_superuser("root", "root@pacte.example", "pw", role="manager")
    minor = open_ticket(world.alice, severity="minor")
    response = client_for(admin).post(
        reverse("admin:sla_outage_add"),
        {
            "organization": world.acme.pk,
            "title": "Portal down",
            "started_at_0": "2026-06-01",
            "started_at_1": "10:00:00",
            "tickets": [minor.pk],
        },
    )
    assert response.status_code == 200 and "not a blocking ticket" in response.content.decode()
    assert not Outage.objects.exists()


def test_managers_see_each_organizations_availability_and_budget(world: World) -> None:
    world.acme.availability_commitment = Decimal("99.800")
    world.acme.save(update_fields=["availability_commitment"])
    outages.outage_record(  # 20 h down: more than the 17 h 31 min 12 s allowed
        organization=world.acme,
        title="Data centre flood",
        started_at=JUNE,
        ended_at=JUNE + 20 * H,
    )
    outages.outage_record(
        organization=world.globex, title="Blip", started_at=JUNE, ended_at=JUNE + H
    )
    url = reverse("desk:availability")
    with time_machine.travel(JUNE + 30 * 24 * H, tick=False):
        response = client_for(world.manager).get(url, {"year": "2026"})
        html = response.content.decode()
        assert response.status_code == 200
        assert "over by 2 h 28 min" in html and 'class="budget-broken"' in html
        # Two tables (the year, then month by month), each a header and two organizations.
        assert "Globex" in html and html.count("<tr") == 6
        assert client_for(world.agent_eu).get(url).status_code == 404
        assert client_for(world.manager).get(url, {"year": "nonsense"}).status_code == 200


def test_the_overview_costs_three_queries_for_any_number_of_organizations(
    world: World, django_assert_num_queries: object
) -> None:
    for org in (world.acme, world.globex):
        outages.outage_record(organization=org, title="x", started_at=JUNE, ended_at=JUNE + H)
    from sla.availability.selectors import availability_overview
    from tickets.models import Organization

    with django_assert_num_queries(3):  # type: ignore[operator]
        rows = availability_overview(
            Organization.objects.all(), year=2026, zone=BERLIN, now=JUNE + 24 * H
        )
    assert [r.year_to_date.downtime for r in rows] == [H, H]
    assert len(rows[0].months) == 6  # January to June


def test_managers_are_warned_once_when_the_error_budget_runs_low_then_out(
    world: World, mailoutbox: list[object], django_capture_on_commit_callbacks: Any
) -> None:
    from sla.models import BudgetAlert
    from sla.tasks import sla_budget_watch_task

    world.manager.email = "maya@pacte.example"
    world.manager.save(update_fields=["email"])
    world.acme.availability_commitment = Decimal("99.800")  # 17 h 31 min 12 s a year
    world.acme.save(update_fields=["availability_commitment"])
    outage = outages.outage_record(
        organization=world.acme, title="Long outage", started_at=JUNE, ended_at=JUNE + 5 * H
    )
    later = JUNE + 30 * 24 * H
    with time_machine.travel(later, tick=False):
        assert sla_budget_watch_task() == 0  # 12 h 31 min left of 17 h 31 min: fine
    Outage.objects.filter(pk=outage.pk).update(ended_at=JUNE + 15 * H)  # 2 h 31 min left
    with time_machine.travel(later, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert sla_budget_watch_task() == 1
        assert sla_budget_watch_task() == 0  # run twice: one alert, one mail
    assert [a.level for a in BudgetAlert.objects.all()] == ["low"]
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.subject == "Error budget low: Acme" and mail.to == ["maya@pacte.example"]  # type: ignore[attr-defined]
    assert "2 h 31 min of downtime left in 2026" in mail.body  # type: ignore[attr-defined]
    Outage.objects.filter(pk=outage.pk).update(ended_at=JUNE + 20 * H)
    with time_machine.travel(later, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert sla_budget_watch_task() == 1
    assert len(mailoutbox) == 2 and "used up" in mailoutbox[1].body  # type: ignore[attr-defined]
