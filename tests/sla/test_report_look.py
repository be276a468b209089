"""One consistent look on the SLA pages (issue 23, point 5): one percentage format per
language, availability in two decimals, units said once, times with their zone, the
availability of a whole year readable at 1366 px, ticket references that link and never wrap."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from sla.availability import outages
from tests.factories import World, client_for, open_ticket
from tickets import access, services
from tickets.templatetags.pacte import (
    availability,
    commitment,
    datetime_zone,
    late_by,
    percent,
    percentage,
    share_beside_availability,
)

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = datetime(2026, 6, 8, 9, 0, tzinfo=BERLIN)
H = timedelta(hours=1)
NBSP = "\u00a0"
CSS = Path(__file__).resolve().parents[2] / "static" / "css" / "pacte.css"


@pytest.mark.parametrize(
    ("language", "shown"),
    [
        ("en", ["87%", "99.49%", "100.00%", "99.50%", "99.995%", "2.50%", "30%", "—",
                "66.66%", "99.99%"]),
        ("fr", [f"87{NBSP}%", f"99,49{NBSP}%", f"100,00{NBSP}%", f"99,50{NBSP}%",
                f"99,995{NBSP}%", f"2,50{NBSP}%", f"30{NBSP}%", "—", f"66,66{NBSP}%",
                f"99,99{NBSP}%"]),
    ],
)  # fmt: skip
def test_one_percentage_format_per_language(language: str, shown: list[str]) -> None:
    with translation.override(language):
        assert [
            percent(0.873),
            availability(Decimal("99.4996")),  # rounded down: never reads as 99.50
            availability(Decimal("100")),
            commitment(Decimal("99.500")),
            commitment(Decimal("99.995")),  # as the contract says it
            percentage(Decimal("2.50")),
            percentage(30),
            availability(None),
            share_beside_availability(Decimal(2) / Decimal(3)),  # a share, like availability
            share_beside_availability(Decimal(9999) / Decimal(10000) + Decimal("0.000099")),
        ] == shown


@pytest.mark.parametrize(
    ("value", "kind", "en", "fr"),
    [
        (timedelta(days=16, hours=3), "business_days", "16 business days 3 h",
         "16 jours ouvrés 3 h"),
        (timedelta(days=1), "business_days", "1 business day", "1 jour ouvré"),
        (timedelta(hours=3, minutes=5), "business_days", "3 h 5 min", "3 h 5 min"),
        (timedelta(hours=41, minutes=15), "business_hours", "41 business hours 15 min",
         "41 heures ouvrées 15 min"),
        (timedelta(minutes=20), "business_hours", "20 min", "20 min"),
        (timedelta(days=2, hours=3), "wall", "2 d 3 h", "2 j 3 h"),
    ],
)  # fmt: skip
def test_lateness_says_its_unit_once(value: timedelta, kind: str, en: str, fr: str) -> None:
    with translation.override("en"):
        assert late_by(value, kind) == en
    with translation.override("fr"):
        assert late_by(value, kind) == fr


def test_an_instant_for_other_zones_says_its_zone() -> None:
    instant = datetime(2026, 12, 11, 12, 0, tzinfo=UTC)
    with translation.override("en"), timezone.override(BERLIN):
        assert datetime_zone(instant) == "Fri 11 Dec 2026, 13:00 CET"
    with translation.override("fr"), timezone.override(ZoneInfo("Asia/Dubai")):
        assert datetime_zone(instant) == "ven. 11 déc. 2026 à 16:00 UTC+04:00"
    assert datetime_zone(None) == "—"


def test_no_uppercase_transform_damages_words() -> None:
    """ "90ᵉ centile" and "janv." stay as written; badges read as they do elsewhere."""
    assert "uppercase" not in CSS.read_text()


def late_acknowledgements(world: World, n: int) -> None:
    """Blocking tickets acknowledged after 1 h and 7 h in turn (the target is 5 business
    hours): every second one 2 business hours late."""
    for i in range(n):
        with time_machine.travel(MONDAY, tick=False):
            ticket = open_ticket(world.alice, severity="blocking", received_at=MONDAY)
        with time_machine.travel(MONDAY + timedelta(hours=1 + 6 * (i % 2)), tick=False):
            services.ticket_acknowledge(ticket=ticket, actor=world.agent_eu)


@pytest.mark.django_db
def test_the_monthly_report_reads_as_one_document(world: World) -> None:
    late_acknowledgements(world, 2)
    late = world.alice.tickets.order_by("pk").last()
    assert late is not None
    pages = []
    with time_machine.travel(MONDAY + timedelta(days=40), tick=False):
        for reader, url in (
            (world.manager, reverse("desk:monthly-report", args=["acme"])),
            (world.amir.user, reverse("tickets:reports")),
        ):
            assert reader is not None
            pages.append(client_for(reader).get(url, {"month": "2026-06"}).content.decode())
    for html in pages:
        assert "issued Sat 18 Jul 2026, 09:00 CEST" in html
        # The top row in one format: the shares as the availability beside them.
        assert KPI.findall(html) == ["2", "50.00%", "—", "100.00%"]
        assert "50% <span" in html and "(1/2)" in html  # within target, by severity
        link = f'<a href="/tickets/{late.reference}/"><span class="ref">{late.reference}</span></a>'
        assert link in html
        assert '<td data-label="Promise">Acknowledgement</td>' in html
        assert "2 business hours" in html and "2 h business hours" not in html
        assert "late acknowledgement" not in html
        assert not re.search(r"\d\.\d{3}", html)  # no three-decimal figure


KPI = re.compile(r'<p class="kpi-value">([^<]*)</p>')
LABEL = re.compile(r'<p class="kpi-value">1</p><p class="kpi-label">([^<]*)</p>')


@pytest.mark.django_db
def test_one_ticket_is_one_ticket_received(world: World) -> None:
    """A month of one ticket says "1 ticket received", on the monthly report and on the
    managers' report; its shares are written like the availability beside them."""
    late_acknowledgements(world, 1)
    with time_machine.travel(MONDAY + timedelta(days=40), tick=False):
        monthly = client_for(world.manager).get(
            reverse("desk:monthly-report", args=["acme"]), {"month": "2026-06"}
        )
        report = client_for(world.manager).get(
            reverse("desk:reports"), {"period": "month", "on": "2026-06-08"}
        )
    for html in (monthly.content.decode(), report.content.decode()):
        assert LABEL.findall(html) == ["ticket received"]
    assert KPI.findall(monthly.content.decode()) == ["1", "100.00%", "—", "100.00%"]


@pytest.mark.django_db
def test_a_report_links_only_the_tickets_its_reader_may_open(world: World) -> None:
    ticket = open_ticket(world.alice)
    assert access.openable_ticket_ids(world.manager, [ticket.pk]) == {ticket.pk}
    assert access.openable_ticket_ids(world.agent_fr, [ticket.pk]) == set()  # another desk
    assert access.openable_ticket_ids(world.manager, []) == set()


@pytest.mark.django_db
def test_the_availability_of_a_year_fits_and_opens_on_the_latest_months(world: World) -> None:
    outages.outage_record(
        organization=world.acme, title="Flood", started_at=MONDAY, ended_at=MONDAY + H
    )
    with time_machine.travel(datetime(2026, 12, 5, 12, tzinfo=BERLIN), tick=False):
        html = client_for(world.manager).get(reverse("desk:availability")).content.decode()
    assert '<main id="main" class="page wide">' in html  # 1366 px: twelve months in view
    months = html.split("Month by month", 1)[1]
    assert "data-scroll-end" in months and 'class="tickets availability months"' in months
    assert months.count('<th class="num" scope="col">') == 12  # January to December
    cells = re.findall(r'<td class="num">([^<]*)</td>', months)
    assert len(cells) == 24 and all(cell.endswith("%") for cell in cells), cells
    assert "99.86%" in cells  # June: 1 h of 720 h down, rounded down
    assert not re.search(r"\d\.\d{3}", html)


@pytest.mark.django_db
def test_the_status_page_is_precise_enough_and_says_its_zone(world: World) -> None:
    now = datetime(2026, 6, 15, 12, 0, tzinfo=ZoneInfo("Europe/Paris"))
    outages.outage_record(
        organization=world.acme,
        title="Dashboard unreachable",
        started_at=now - 72 * H,
        ended_at=now - 70 * H,
    )
    outages.maintenance_announce(
        organization=world.acme,
        title="Release 4.2",
        starts_at=now + 24 * H,
        ends_at=now + 26 * H,
        announced_at=now - H,
    )
    with time_machine.travel(now, tick=False):
        html = Client().get(reverse("status", args=["acme"])).content.decode()
    assert "99.90% available" in html  # 2 h of 90 days: 99.907…, rounded down
    assert "commitment: 99.50% a year" in html
    assert "Fri 12 Jun 2026, 12:00 CEST → Fri 12 Jun 2026, 14:00 CEST" in html
    assert "Tue 16 Jun 2026, 12:00 CEST → Tue 16 Jun 2026, 14:00 CEST" in html
    assert "disruption over 1%" in html
    assert not re.search(r"\d\.\d{3}", html)
