"""The managers' SLA report page and its CSV: who may read them, periods, filters, the chart,
constant queries."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from sla.clocks.escalation import clock_escalate
from sla.models import Clock
from tests.factories import World, client_for, open_ticket
from tickets import services

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = datetime(2026, 6, 8, 9, 0, tzinfo=BERLIN)
URL = "/desk/reports/"


def tickets(world: World, n: int) -> None:
    for i in range(n):
        with time_machine.travel(MONDAY, tick=False):
            ticket = open_ticket(world.alice, severity="blocking", received_at=MONDAY)
        with time_machine.travel(MONDAY + timedelta(hours=1 + 6 * (i % 2)), tick=False):
            services.ticket_acknowledge(ticket=ticket, actor=world.agent_eu)


def get(client: Client, **params: str) -> tuple[int, str]:
    with time_machine.travel(MONDAY + timedelta(days=2), tick=False):
        response = client.get(URL, params)
    return response.status_code, response.content.decode()


def test_managers_read_the_report_of_a_month(world: World) -> None:
    tickets(world, 4)  # acknowledged after 1 h, 7 h, 1 h, 7 h: half within the 5 h target
    status, html = get(client_for(world.manager), period="month", on="2026-06-15")
    assert status == 200
    assert "1 Jun 2026 – 30 Jun 2026" in html
    assert '<p class="kpi-value">4</p>' in html and "50%" in html
    assert html.count('class="bar"') == 1  # June
    assert "late acknowledgement" in html and "2 business hours" in html  # 7 h − 5 h
    assert reverse("desk:reports-csv") in html


def test_only_managers_read_reports(world: World) -> None:
    assert get(client_for(world.agent_eu))[0] == 404
    assert get(client_for(world.alice.user))[0] == 404
    assert Client().get(URL).status_code == 302
    assert Client().get(reverse("desk:reports-csv")).status_code == 302


def test_a_custom_range_is_checked(world: World) -> None:
    manager = client_for(world.manager)
    status, html = get(manager, period="custom", start="2026-06-10", end="2026-06-01")
    assert status == 400 and "ends before it starts" in html
    assert get(manager, period="custom", start="2026-06-10")[0] == 400
    assert get(manager, period="custom", start="2020-01-01", end="2026-06-01")[0] == 400
    assert get(manager, period="quarter", severity="nonsense")[0] == 400


def test_filters_narrow_and_quarters_and_years(world: World) -> None:
    tickets(world, 2)
    manager = client_for(world.manager)
    assert '<p class="kpi-value">2</p>' in get(manager, period="quarter", on="2026-05-01")[1]
    assert '<p class="kpi-value">0</p>' in get(manager, period="quarter", on="2026-07-01")[1]
    year = get(manager, period="year", on="2026-01-01")[1]
    assert '<p class="kpi-value">2</p>' in year
    assert year.count('class="bar"') == 12 and 'class="tick">Jun</text>' in year  # fits
    months = get(manager, period="custom", start="2025-01-01", end="2026-12-31")[1]
    assert months.count('class="bar"') == 24 and 'class="tick">01/25</text>' in months
    assert 'class="tick">02/25</text>' not in months  # one label in two
    minor = get(manager, period="year", on="2026-01-01", severity="minor")[1]
    assert '<p class="kpi-value">0</p>' in minor
    other = get(manager, period="year", on="2026-01-01", organization=str(world.globex.pk))[1]
    assert '<p class="kpi-value">0</p>' in other


def test_the_csv_carries_the_same_figures(world: World) -> None:
    tickets(world, 4)
    with time_machine.travel(MONDAY + timedelta(days=2), tick=False):
        response = client_for(world.manager).get(
            reverse("desk:reports-csv"), {"period": "month", "on": "2026-06-15"}
        )
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="sla-report-2026-06-01-2026-06-30.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[1] == ["tickets received", "4"]
    ack = next(r for r in rows if r[:2] == ["blocking", "acknowledgement"])
    # mean (1 + 1 + 7 + 7) / 4 = 4 h, median 1 h, 90th percentile 7 h
    assert ack[2:] == ["business_hours", "4", "4", "2", "2", "0", "50.0", "4.00", "1.00", "7.00"]
    late = [r for r in rows if len(r) == 8 and r[0].startswith("PAC-")]
    assert len(late) == 2 and all(r[6:] == ["2.00", "stopped"] for r in late)
    bad = client_for(world.manager).get(reverse("desk:reports-csv"), {"period": "custom"})
    assert bad.status_code == 400


def test_a_breach_still_running_shows_how_late_it_is_so_far(world: World) -> None:
    """Never acknowledged: 5 business hours were due at 14:00; at 16:30 it is 2 h 30 late and
    counting, on the page and in the CSV."""
    with time_machine.travel(MONDAY, tick=False):
        ticket = open_ticket(world.alice, severity="blocking", received_at=MONDAY)
    clock = Clock.objects.get(ticket=ticket, metric="acknowledgement")
    clock_escalate(clock_id=clock.pk, now=MONDAY + timedelta(hours=5, minutes=1))
    manager = client_for(world.manager)
    with time_machine.travel(MONDAY + timedelta(hours=7, minutes=30), tick=False):
        html = manager.get(URL, {"period": "month", "on": "2026-06-15"}).content.decode()
        response = manager.get(reverse("desk:reports-csv"), {"period": "month", "on": "2026-06-15"})
    assert "late acknowledgement" in html
    # The share counts the finished promises; the one late and still counting is said beside.
    assert '<p class="kpi-note">and 1 still waiting, already late</p>' in html
    row = html[html.index(ticket.reference, html.index("Missed deadlines")) :]
    assert (
        "2 business hours 30 min" in row[: row.index("</tr>")]
        and "still running" in row[: row.index("</tr>")]
    )
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    late = next(r for r in rows if r[:1] == [ticket.reference] and r[3] == "acknowledgement")
    assert late[6:] == ["2.50", "running"]


def test_the_page_costs_the_same_queries_for_more_tickets(
    world: World, django_assert_max_num_queries: object
) -> None:
    """Same statements for 2 tickets and for 22, and the page counts all of them: tickets
    acknowledged after 1 h and 7 h in turn, so 1 of 2, then 11 of 22, missed the 5 h."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    manager = client_for(world.manager)
    month = {"period": "month", "on": "2026-06-15"}
    tickets(world, 2)
    with (
        time_machine.travel(MONDAY + timedelta(days=2), tick=False),
        CaptureQueriesContext(connection) as few,
    ):
        small = manager.get(URL, month)
    tickets(world, 20)
    with (
        time_machine.travel(MONDAY + timedelta(days=2), tick=False),
        django_assert_max_num_queries(len(few)),  # type: ignore[operator]
    ):
        large = manager.get(URL, month)

    assert (small.status_code, large.status_code) == (200, 200)
    kpis = re.compile(r'<p class="kpi-value">([^<]*)</p>')
    # received, acknowledged within target, corrected within target, at risk now
    assert kpis.findall(small.content.decode()) == ["2", "50%", "—", "0"]
    assert kpis.findall(large.content.decode()) == ["22", "50%", "—", "0"]
    assert small.content.decode().count("late acknowledgement") == 1
    assert large.content.decode().count("late acknowledgement") == 11


def test_the_report_in_french_keeps_svg_numbers_plain(world: World) -> None:
    world.manager.language = "fr"
    world.manager.save(update_fields=["language"])
    tickets(world, 3)
    html = get(client_for(world.manager), period="month", on="2026-06-15")[1]
    assert "Rapport SLA" in html
    numbers = re.findall(r'<rect x="([^"]+)" y="([^"]+)" width="([^"]+)" height="([^"]+)"', html)
    assert numbers and all("," not in value for row in numbers for value in row)


def test_the_monthly_report_of_one_organization(world: World) -> None:
    tickets(world, 4)
    open_ticket(world.bob, severity="minor", received_at=MONDAY)  # Globex: not in Acme's report
    url = reverse("desk:monthly-report", args=["acme"])
    with time_machine.travel(MONDAY + timedelta(days=40), tick=False):
        manager = client_for(world.manager)
        html = manager.get(url, {"month": "2026-06"}).content.decode()
        assert "Acme — June 2026" in html
        assert '<p class="kpi-value">4</p>' in html and '<p class="kpi-value">50.00%</p>' in html
        assert "Print or save as PDF" in html
        assert '<td data-label="Promise">Acknowledgement</td>' in html  # a missed deadline
        assert world.bob.email not in html
        assert "June 2026" in manager.get(url, {"month": "nonsense"}).content.decode()  # last month
        assert manager.get(reverse("desk:monthly-report", args=["nobody"])).status_code == 404
        assert client_for(world.agent_eu).get(url).status_code == 404


def test_a_month_alone_is_a_bar_on_an_axis_labelled_at_zero_middle_and_top(world: World) -> None:
    """Three tickets in June, nothing before: one bar, no wider than MAX_BAR_W and centred in
    the plot, its month centred under it; the axis reads 0, 2 and 4 (an even top, so the
    middle is a whole number of tickets), each at its height, the bar's top at 3 of 4."""
    from tickets.views.reports import CHART_H, CHART_LEFT, CHART_PAD, CHART_W, MAX_BAR_W

    tickets(world, 3)
    status, html = get(client_for(world.manager), period="month", on="2026-06-15")
    assert status == 200
    bar = re.search(r'<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"', html)
    assert bar is not None
    x, y, width, height = (float(v) for v in bar.groups())
    assert width == MAX_BAR_W
    assert x + width / 2 == pytest.approx((CHART_LEFT + CHART_W - CHART_PAD) / 2, abs=0.1)
    plot = CHART_H - 2 * CHART_PAD
    assert (y, height) == (
        pytest.approx(CHART_PAD + plot / 4, abs=0.1),
        pytest.approx(plot * 3 / 4, abs=0.1),
    )
    label = re.search(
        r'<text x="([\d.]+)" y="[\d.]+" text-anchor="middle" class="tick">June 2026<', html
    )
    assert label is not None and float(label.group(1)) == pytest.approx(x + width / 2, abs=0.1)
    levels = re.findall(
        r'<text x="[\d.]+" y="([\d.]+)" text-anchor="end" class="tick">(\d+)<', html
    )
    assert [n for _, n in levels] == ["0", "2", "4"]
    assert [float(y) for y, _ in levels] == pytest.approx(
        [CHART_H - CHART_PAD + 3.5, CHART_PAD + plot / 2 + 3.5, CHART_PAD + 3.5], abs=0.1
    )
    assert "June 2026: 3 tickets" in html
