"""SLA reports from aggregate queries: counts, shares within target, medians and 90th
percentiles in each clock's own kind, breaches and how late, tickets at risk, months."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from sla.models import Clock
from sla.reports import figures, listings
from tests.factories import World, client_for, open_ticket
from tickets import services
from tickets.models import Ticket

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = datetime(2026, 6, 8, 9, 0, tzinfo=BERLIN)  # europe desk: Mon–Thu 9–17, Fri 9–16
H = timedelta(hours=1)


def acknowledged_after(world: World, hours: float, *, severity: str = "blocking") -> Ticket:
    with time_machine.travel(MONDAY, tick=False):
        ticket = open_ticket(world.alice, severity=severity, received_at=MONDAY)
    with time_machine.travel(MONDAY + hours * H, tick=False):
        services.ticket_acknowledge(ticket=ticket, actor=world.agent_eu)
    return ticket


def period() -> figures.ReportFilter:
    return figures.ReportFilter(start=MONDAY - 24 * H, end=MONDAY + 30 * 24 * H)


def test_shares_medians_and_percentiles_per_severity_and_metric(
    world: World, django_assert_num_queries: object
) -> None:
    # Blocking: 5 business hours to acknowledge. Acknowledged after 1, 2, 3, 4 and 7 hours
    # (7 h: Monday 16:00, within the day, breached).
    for hours in (1, 2, 3, 4, 7):
        acknowledged_after(world, hours)
    tickets = figures.report_tickets(Ticket.objects.all(), period())
    with django_assert_num_queries(2):  # type: ignore[operator]
        report = figures.sla_report(tickets, start=period().start, end=period().end, zone=BERLIN)
    assert report.received == 5
    ack = next(g for g in report.groups if g.metric == "acknowledgement")
    assert (ack.severity, ack.kind, ack.clocks, ack.stopped, ack.met, ack.breached) == (
        "blocking",
        "business_hours",
        5,
        5,
        4,
        1,
    )
    assert ack.median == 3 * H and ack.p90 == 7 * H  # ranks ⌈2.5⌉ = 3 and ⌈4.5⌉ = 5
    assert ack.mean == timedelta(hours=3, minutes=24)  # (1 + 2 + 3 + 4 + 7) / 5 = 3.4 h
    assert ack.met_share == Decimal("0.8") == report.share("acknowledgement")
    correction = next(g for g in report.groups if g.metric == "correction")
    assert correction.stopped == 0 and correction.met_share is None and correction.median is None
    # The period runs from 7 June to 8 July: both months, counted within the period.
    assert [(m.month.month, m.received) for m in report.months] == [(6, 5), (7, 0)]


def test_time_is_counted_in_the_clocks_kind(world: World) -> None:
    # Thursday 16:00 + 2 h of wall time = Friday 09:00 + 1 business hour... counted: 1 h.
    thursday = datetime(2026, 6, 11, 16, 0, tzinfo=BERLIN)
    with time_machine.travel(thursday, tick=False):
        ticket = open_ticket(world.alice, severity="blocking", received_at=thursday)
    with time_machine.travel(datetime(2026, 6, 12, 9, 0, tzinfo=BERLIN), tick=False):
        services.ticket_acknowledge(ticket=ticket, actor=world.agent_eu)
    clock = ticket.clocks.get(metric="acknowledgement")
    assert clock.elapsed == H  # 16:00–17:00 Thursday; the night does not count


def test_breaches_say_how_late_in_the_clocks_kind(world: World) -> None:
    late = acknowledged_after(world, 7)
    acknowledged_after(world, 1)
    tickets = figures.report_tickets(Ticket.objects.all(), period())
    listed = list(listings.breaches(tickets))
    assert [c.ticket_id for c in listed] == [late.pk]
    assert listed[0].metric == "acknowledgement" and listed[0].late_by == 2 * H


def test_filters_narrow_the_report(world: World) -> None:
    acknowledged_after(world, 1)
    acknowledged_after(world, 1, severity="minor")
    base = Ticket.objects.all()
    only_minor = figures.report_tickets(
        base, figures.ReportFilter(**{**period().__dict__, "severity": "minor"})
    )
    assert only_minor.count() == 1
    other_org = figures.report_tickets(
        base, figures.ReportFilter(**{**period().__dict__, "organization_id": world.globex.pk})
    )
    assert other_org.count() == 0
    later = figures.report_tickets(
        base, figures.ReportFilter(start=MONDAY + H, end=MONDAY + 48 * H)
    )
    assert later.count() == 0


def test_tickets_at_risk_now(world: World) -> None:
    with time_machine.travel(MONDAY, tick=False):
        ticket = open_ticket(world.alice, severity="blocking", received_at=MONDAY)
    clock = ticket.clocks.get(metric="acknowledgement")
    assert clock.warn_at is not None and clock.due_at is not None
    tickets = Ticket.objects.all()
    assert list(listings.at_risk(tickets, now=clock.warn_at - H)) == []
    assert list(listings.at_risk(tickets, now=clock.warn_at + timedelta(minutes=1))) == [clock]
    assert list(listings.at_risk(tickets, now=clock.due_at + H)) == []
    assert Clock.objects.filter(elapsed_seconds__isnull=False).count() == 0


def test_severity_changes_call_out_the_downgrades_that_avoided_a_breach(world: World) -> None:
    # Blocking (acknowledge within 5 business hours) downgraded to major (1 business day),
    # then acknowledged after 7 hours: met now, missed under the old severity.
    with time_machine.travel(MONDAY, tick=False):
        saved = open_ticket(world.alice, severity="blocking", received_at=MONDAY)
        harmless = open_ticket(world.alice, severity="blocking", received_at=MONDAY)
        raised = open_ticket(world.alice, severity="minor", received_at=MONDAY)
    with time_machine.travel(MONDAY + H, tick=False):
        for ticket, severity in ((saved, "major"), (harmless, "major"), (raised, "blocking")):
            services.ticket_reclassify(
                ticket=ticket, actor=world.agent_eu, severity=severity, reason="Checked"
            )
        services.ticket_acknowledge(ticket=harmless, actor=world.agent_eu)  # within 5 h anyway
    with time_machine.travel(MONDAY + 7 * H, tick=False):
        services.ticket_acknowledge(ticket=saved, actor=world.agent_eu)
    tickets = figures.report_tickets(Ticket.objects.all(), period())
    rows = {
        r.event.ticket_id: r
        for r in listings.severity_change_rows(list(listings.severity_changes(tickets)))
    }
    assert rows[saved.pk].downgrade and rows[saved.pk].avoided == ["acknowledgement"]
    assert rows[harmless.pk].downgrade and rows[harmless.pk].avoided == []
    assert not rows[raised.pk].downgrade and rows[raised.pk].avoided == []
    # Counted over the whole period, not only the page of changes shown.
    report = figures.sla_report(tickets, start=period().start, end=period().end, zone=BERLIN)
    assert report.spared == 1
    assert Clock.objects.get(ticket=saved, metric="acknowledgement").spared_from == "blocking"
    with time_machine.travel(MONDAY + 8 * H, tick=False):
        html = (
            client_for(world.manager)
            .get("/desk/reports/", {"period": "month", "on": "2026-06-10"})
            .content.decode()
        )
    assert html.count("downgrade that avoided a breach") == 1
    assert "1 promise was kept only because its ticket had been downgraded" in html
    assert "Blocking → Major" in html and "Minor → Blocking" in html


def test_a_reopened_clock_loses_its_save_and_the_migration_finds_saves_again(
    world: World,
) -> None:
    """Blocking, downgraded to major an hour in, resolved on Tuesday afternoon: the correction
    is met under major, missed under blocking. Reopened, it is no longer a save."""
    import importlib

    from django.apps import apps

    with time_machine.travel(MONDAY, tick=False):
        ticket = open_ticket(world.alice, severity="blocking", received_at=MONDAY)
    with time_machine.travel(MONDAY + H, tick=False):
        services.ticket_reclassify(
            ticket=ticket, actor=world.agent_eu, severity="major", reason="One kiosk only"
        )
    with time_machine.travel(MONDAY + 30 * H, tick=False):
        services.ticket_change_status(ticket=ticket, actor=world.agent_eu, status="resolved")
    correction = Clock.objects.get(ticket=ticket, metric="correction")
    assert (correction.outcome, correction.spared_from) == ("met", "blocking")

    migration = importlib.import_module("sla.migrations.0009_report_indexes")
    Clock.objects.update(spared_from="")
    migration.mark_spared_clocks(apps, None)  # the backfill of databases from before the field
    correction.refresh_from_db()
    assert correction.spared_from == "blocking"

    with time_machine.travel(MONDAY + 31 * H, tick=False):
        services.ticket_change_status(ticket=ticket, actor=world.agent_eu, status="in_progress")
    correction.refresh_from_db()
    assert (correction.state, correction.spared_from) == ("running", "")
    tickets = figures.report_tickets(Ticket.objects.all(), period())
    assert (
        figures.sla_report(tickets, start=period().start, end=period().end, zone=BERLIN).spared == 0
    )
