"""The SLA report from daily roll-ups: the same figures as from the tickets themselves, under
every filter and in any time zone; a change to a counted day is in the next report at once
(the database's triggers mark the day), whatever wrote it; lost triggers invalidate every day."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.db.migrations import Migration
from django.db.migrations.operations import AlterField
from django.db.models import CharField

from sla.models import Clock, RollupDay, RollupDirty
from sla.reports import figures, rollups
from sla.reports.triggers import (
    triggers_after_migrate,
    triggers_before_migrate,
    triggers_expected,
    triggers_present,
)
from sla.tasks import report_rollups_count_task
from tests.factories import World, open_ticket
from tickets import services
from tickets.models import Status, Ticket
from tickets.tasks import sqlite_optimize_task

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")
H = timedelta(hours=1)
LATER = datetime(2026, 7, 20, 12, 0, tzinfo=UTC)  # when the days are counted


def _at(day: int, hour: int, month: int = 6) -> datetime:
    return datetime(2026, month, day, hour, 30, tzinfo=BERLIN)


# Received (Berlin), severity, hours to the acknowledgement (None: never), resolved after.
# 30 June 23:30 and 1 July 00:30 in Berlin are both 30 June in UTC: that day is cut by July.
TICKETS = [
    (_at(29, 9), "blocking", 1, 30),
    (_at(29, 10), "major", 3, None),
    (_at(29, 11), "blocking", 7, None),  # acknowledged late: a breach
    (_at(30, 10), "minor", 2, 50),
    (_at(30, 23), "major", None, None),
    (_at(1, 0, month=7), "blocking", 4, 20),
    (_at(1, 14, month=7), "minor", None, None),
    (_at(2, 9, month=7), "major", 1, 3),
    (_at(2, 15, month=7), "blocking", 2, None),
]


@pytest.fixture
def tickets(world: World) -> list[Ticket]:
    made = []
    for n, (at, severity, ack, resolved) in enumerate(TICKETS):
        contact = world.bob if n % 3 == 2 else world.alice
        agent = world.agent_fr if contact == world.bob else world.agent_eu
        with time_machine.travel(at, tick=False):
            ticket = open_ticket(contact, severity=severity, received_at=at)
        if ack is not None:
            with time_machine.travel(at + ack * H, tick=False):
                services.ticket_acknowledge(ticket=ticket, actor=agent)
        if resolved is not None:
            with time_machine.travel(at + resolved * H, tick=False):
                services.ticket_change_status(ticket=ticket, actor=agent, status=Status.RESOLVED)
        made.append(ticket)
    return made


def period(zone: ZoneInfo = BERLIN, **narrow: object) -> figures.ReportFilter:
    return figures.ReportFilter(
        start=datetime(2026, 6, 1, tzinfo=zone), end=datetime(2026, 8, 1, tzinfo=zone), **narrow
    )


def of_tickets(filters: figures.ReportFilter, zone: ZoneInfo = BERLIN) -> figures.Report:
    tickets = figures.report_tickets(Ticket.objects.all(), filters)
    return figures.sla_report(tickets, start=filters.start, end=filters.end, zone=zone)


def count_days() -> int:
    return rollups.dirty_days_count(now=LATER)


def test_the_rolled_report_is_the_report_of_the_tickets(world: World, tickets: list) -> None:
    start, end = period().start, period().end
    days = [date(2026, 6, 29), date(2026, 6, 30), date(2026, 7, 1), date(2026, 7, 2)]
    # The UTC days whole within June and July in Berlin: 1 June to 30 July. Those without
    # tickets are answered by roll-ups (empty) at once, those with tickets once counted.
    whole = [date(2026, 6, 1) + timedelta(days=n) for n in range(60)]
    assert rollups.rolled_days(start, end) == [day for day in whole if day not in days]
    assert rollups.sla_report_rolled(period(), BERLIN) == of_tickets(period())
    assert count_days() == 4  # 29 June to 2 July (UTC)
    assert not RollupDirty.objects.exists()
    assert rollups.rolled_days(start, end) == whole
    # July begins on 30 June at 22:00 UTC in Berlin: that day's hours go to both months.
    assert rollups.month_parts(days, figures.month_segments(start, end, BERLIN)) == {
        days[0]: [(0, 0, 24)],
        days[1]: [(0, 0, 22), (1, 22, 24)],
        days[2]: [(1, 0, 24)],
        days[3]: [(1, 0, 24)],
    }
    # Half an hour from UTC, a month begins off a whole hour: that day's months are read from
    # its tickets.
    kolkata = ZoneInfo("Asia/Kolkata")
    segments = figures.month_segments(start, end, kolkata)
    assert list(rollups.month_parts(days, segments)) == [days[0], days[2], days[3]]
    for filters in (
        period(),
        period(desk_id=world.europe.pk),
        period(severity="blocking"),
        period(organization_id=world.acme.pk),
        period(agent_id=world.agent_eu.pk),
    ):
        report = rollups.sla_report_rolled(filters, BERLIN)
        assert report == of_tickets(filters)
    report = rollups.sla_report_rolled(period(), BERLIN)
    assert report.received == 9 and report.breached >= 1
    assert [(m.month.month, m.received) for m in report.months] == [(6, 5), (7, 4)]
    for zone in (UTC, ZoneInfo("Asia/Kolkata"), ZoneInfo("America/Los_Angeles")):
        assert rollups.sla_report_rolled(period(zone), zone) == of_tickets(period(zone), zone)


def test_a_change_to_a_counted_day_is_in_the_next_report(world: World, tickets: list) -> None:
    count_days()
    late = tickets[1]  # 29 June, major, acknowledged, not resolved
    with time_machine.travel(LATER, tick=False):
        services.ticket_change_status(ticket=late, actor=world.agent_eu, status=Status.RESOLVED)
        services.ticket_reclassify(
            ticket=tickets[6], actor=world.agent_eu, severity="major", reason="Two tills down."
        )
    assert set(RollupDirty.objects.values_list("day", flat=True)) == {
        date(2026, 6, 29),
        date(2026, 7, 1),
    }
    assert rollups.sla_report_rolled(period(), BERLIN) == of_tickets(period())
    # A bulk update, past the models' save, marks its day too.
    count_days()
    Clock.objects.filter(ticket=tickets[7]).update(breached_at=LATER)
    assert list(RollupDirty.objects.values_list("day", flat=True).distinct()) == [date(2026, 7, 2)]
    assert rollups.sla_report_rolled(period(), BERLIN) == of_tickets(period())
    with time_machine.travel(datetime(2026, 7, 2, 23, 0, tzinfo=UTC), tick=False):
        assert report_rollups_count_task() == 0  # today's tickets keep changing: not counted
    with time_machine.travel(LATER, tick=False):
        assert report_rollups_count_task() == 1
    assert not RollupDirty.objects.exists()
    assert rollups.sla_report_rolled(period(), BERLIN) == of_tickets(period())


def test_merging_and_deleting_a_ticket_marks_its_day(world: World, tickets: list) -> None:
    count_days()
    with time_machine.travel(LATER, tick=False):
        services.ticket_merge(source=tickets[1], target=tickets[0], actor=world.agent_eu)
    assert rollups.sla_report_rolled(period(), BERLIN) == of_tickets(period())
    assert rollups.sla_report_rolled(period(), BERLIN).received == 8
    count_days()
    tickets[7].delete()
    assert rollups.sla_report_rolled(period(), BERLIN) == of_tickets(period())
    assert rollups.sla_report_rolled(period(), BERLIN).received == 7


def test_lost_triggers_make_every_day_dirty_again(world: World, tickets: list) -> None:
    count_days()
    assert triggers_present(connection) == triggers_expected(connection)
    # As a migration that rebuilds the clocks' table on SQLite would leave it.
    with connection.cursor() as cursor:
        name = "sla_rollup_clock_update"
        cursor.execute(
            f"DROP TRIGGER {name}" + ("" if connection.vendor == "sqlite" else " ON sla_clock")
        )
    Clock.objects.filter(ticket=tickets[0], metric="acknowledgement").update(elapsed_seconds=7200)
    assert not RollupDirty.objects.exists()  # unrecorded: the roll-up of 29 June is stale
    assert rollups.sla_report_rolled(period(), BERLIN) != of_tickets(period())
    triggers_after_migrate(using="default")  # what every migrate does
    assert triggers_present(connection) == triggers_expected(connection)
    assert set(RollupDirty.objects.values_list("day", flat=True)) == set(
        RollupDay.objects.values_list("day", flat=True)
    )
    assert rollups.sla_report_rolled(period(), BERLIN) == of_tickets(period())


def test_the_planner_statistics_are_kept_daily(world: World, tickets: list) -> None:
    """Without statistics, SQLite read a year's tickets through the merged-into index instead
    of the range of arrival instants (bench/reports.py): the beat refreshes them daily."""
    refreshed = sqlite_optimize_task()
    assert refreshed == (connection.vendor == "sqlite")  # PostgreSQL's autovacuum does it
    if refreshed:
        with connection.cursor() as cursor:
            cursor.execute("SELECT DISTINCT tbl FROM sqlite_stat1")
            assert {"tickets_ticket", "sla_clock"} <= {name for (name,) in cursor.fetchall()}


@pytest.mark.django_db(transaction=True)
def test_a_migration_that_rebuilds_the_tickets_table_keeps_the_roll_ups_honest(
    world: World, tickets: list
) -> None:
    """SQLite rebuilds a table to alter a column (copy, drop, rename): a clock trigger naming
    the tickets' table made the rename fail. The triggers are dropped before such a plan and
    installed again after it, every day then dirty."""
    count_days()
    migration = Migration("0999_subject", "tickets")
    migration.operations = [AlterField("ticket", "subject", CharField(max_length=250))]
    triggers_before_migrate(using="default", plan=[(migration, False)])
    assert not triggers_present(connection)
    old = Ticket._meta.get_field("subject")
    new = CharField(max_length=250)
    new.set_attributes_from_name("subject")
    new.model = Ticket
    with connection.schema_editor() as editor:
        editor.alter_field(Ticket, old, new)  # SQLite: the table rebuilt
        editor.alter_field(Ticket, new, old)
    triggers_after_migrate(using="default")
    assert triggers_present(connection) == triggers_expected(connection)
    # Every day with a ticket (the fixture's; and one a thread of an earlier test may have
    # committed after that test's database was emptied, which counts the same).
    assert (
        set(RollupDirty.objects.values_list("day", flat=True))
        == {t.received_at.astimezone(UTC).date() for t in Ticket.objects.all()}
        >= {t.received_at.astimezone(UTC).date() for t in tickets}
    )
    assert rollups.sla_report_rolled(period(), BERLIN) == of_tickets(period())
    # A plan that leaves tickets and clocks alone leaves the triggers alone.
    other = Migration("0999_other", "tickets")
    other.operations = [AlterField("desk", "name", CharField(max_length=120))]
    triggers_before_migrate(using="default", plan=[(other, False)])
    assert triggers_present(connection) == triggers_expected(connection)


def test_a_long_period_of_alternating_days_reads_in_several_statements(
    world: World, tickets: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More ranges than a compound SELECT may have parts (SQLite: 500; 8 here, to be quick)."""
    count_days()
    monkeypatch.setattr(rollups, "UNION_PARTS", 8)
    start = datetime(2026, 5, 1, tzinfo=UTC)
    RollupDirty.objects.bulk_create(
        RollupDirty(day=(start + timedelta(days=2 * n)).date()) for n in range(30)
    )
    filters = figures.ReportFilter(start=start, end=datetime(2026, 8, 1, tzinfo=UTC))
    assert len(rollups._ranges(filters, rollups.rolled_days(filters.start, filters.end))) > 24
    assert rollups.sla_report_rolled(filters, UTC) == of_tickets(filters, UTC)


def test_every_day_can_be_counted_again_after_writes_the_triggers_missed(
    world: World, tickets: list
) -> None:
    count_days()
    with connection.cursor() as cursor:  # as a restore with triggers disabled would leave it
        cursor.execute("DELETE FROM sla_rollupdirty")
        cursor.execute("UPDATE sla_clock SET elapsed_seconds = 60 WHERE elapsed_seconds > 0")
    # (the update above was seen by the triggers: forget what they marked)
    RollupDirty.objects.all().delete()
    assert rollups.sla_report_rolled(period(), BERLIN) != of_tickets(period())
    out = io.StringIO()
    with time_machine.travel(LATER, tick=False):
        call_command("rollups_recount", stdout=out)
    assert out.getvalue().startswith("4 days counted again")
    assert rollups.sla_report_rolled(period(), BERLIN) == of_tickets(period())
