"""The public status page of an organization: no login, nothing of another organization, the
state now, announced maintenance, past incidents and 90 days of availability."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from sla.availability import outages
from tests.factories import World

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=PARIS)
H = timedelta(hours=1)


def page(slug: str = "acme") -> tuple[int, str]:
    with time_machine.travel(NOW, tick=False):
        response = Client().get(reverse("status", args=[slug]))
    return response.status_code, response.content.decode()


def test_an_operational_service_with_its_history(world: World) -> None:
    outages.outage_record(
        organization=world.acme,
        title="Dashboard unreachable",
        started_at=NOW - 3 * 24 * H,
        ended_at=NOW - 3 * 24 * H + 2 * H,
    )
    outages.outage_record(
        organization=world.globex, title="Globex secret trouble", started_at=NOW - H
    )
    outages.maintenance_announce(
        organization=world.acme,
        title="Release 4.2",
        starts_at=NOW + 24 * H,
        ends_at=NOW + 26 * H,
        announced_at=NOW - H,
    )
    outages.maintenance_announce(  # not announced yet: not shown
        organization=world.acme,
        title="Secret plan",
        starts_at=NOW + 48 * H,
        ends_at=NOW + 49 * H,
        announced_at=NOW + H,
    )
    status, html = page()
    assert status == 200
    assert "All systems operational" in html
    assert "Dashboard unreachable" in html and "Release 4.2" in html
    assert "Globex" not in html and "Secret plan" not in html
    assert html.count("<rect ") == 90
    assert 'class="bar-down"' in html  # the day of the outage (2 h of 24)
    assert "99.9" in html  # 2 h of 90 days


def test_an_ongoing_outage_is_shown_first(world: World) -> None:
    outages.outage_record(organization=world.acme, title="API down", started_at=NOW - H)
    status, html = page()
    assert "Service disruption in progress" in html and "API down" in html


def test_maintenance_in_progress(world: World) -> None:
    outages.maintenance_announce(
        organization=world.acme,
        title="Upgrade",
        starts_at=NOW - H,
        ends_at=NOW + H,
        announced_at=NOW - 48 * H,
    )
    assert "Planned maintenance in progress" in page()[1]


def test_unknown_or_uncontracted_organizations_have_no_page(world: World) -> None:
    assert page("nobody")[0] == 404
    world.acme.under_contract = False
    world.acme.save(update_fields=["under_contract"])
    assert page()[0] == 404


def test_the_page_costs_the_same_queries_whatever_the_history(
    world: World, django_assert_max_num_queries: object
) -> None:
    for day in range(60):
        outages.outage_record(
            organization=world.acme,
            title=f"Blip {day}",
            started_at=NOW - day * 24 * H - 2 * H,
            ended_at=NOW - day * 24 * H - H,
        )
    # The organization, its outages, its maintenance windows, and the request's savepoint
    # (ATOMIC_REQUESTS): five statements for 60 outages as for none.
    with django_assert_max_num_queries(5):  # type: ignore[operator]
        assert page()[0] == 200


def test_the_page_in_french(world: World) -> None:
    with time_machine.travel(NOW, tick=False):
        html = (
            Client(HTTP_ACCEPT_LANGUAGE="fr").get(reverse("status", args=["acme"])).content.decode()
        )
    assert "Tous les services fonctionnent" in html
