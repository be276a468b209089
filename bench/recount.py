"""Time and SQL queries of counting 10,000 running clocks again after a calendar edit.

    .venv/bin/python bench/recount.py [--tickets 5000] [--runs 5] [--database-url URL]

Works on its own database, never var/pacte.sqlite3: var/bench-recount.sqlite3, recreated on
each run, or a PostgreSQL database whose name contains 'bench' (see bench/README.md). Seeds
open tickets on the `europe` desk, each with its two clocks running (a tenth of the correction
clocks paused, waiting on the customer), received over the last three days: most of their deadlines
fall after the closure, which moves them. Then, alternately,
a manager adds a year-end closure and removes it: each edit commits, and its batch
(`sla.clocks.recount.calendar_clocks_recount`, the Celery task run eagerly here) counts every
clock again and writes a history line per moved deadline. Prints each edit's time and queries,
min/median/max, and the goal: under 10 s for 10,000 clocks on SQLite. Exits 1 when a
deadline did not move as the edit says or the goal is missed.
"""
# ruff: noqa: E402  (the project's modules are imported once Django is set up, below)

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import warnings
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT, HERE = Path(__file__).resolve().parents[1], Path(__file__).resolve().parent
# The project's root first, and not this folder: scripts import `bench.…` and the project.
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != HERE)]

from bench.benchdb import bench_file, machine_facts, use_database

SQLITE_FILE = bench_file("bench-recount.sqlite3")

GOAL_SECONDS = 10.0
NOW = datetime(2026, 12, 18, 9, 0, tzinfo=UTC)  # a Friday: the closure starts on Monday

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--tickets", type=int, default=5_000, help="two clocks each")
parser.add_argument("--runs", type=int, default=5)
parser.add_argument("--database-url", help="postgres://… (default: var/bench-recount.sqlite3)")
ARGS = parser.parse_args()
use_database(ARGS.database_url, SQLITE_FILE)
warnings.filterwarnings("ignore", message="No directory at")  # whitenoise, without collectstatic

import django

django.setup()

import time_machine
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from sla.clocks.calendar import clock_start
from sla.clocks.deadlines import deadlines
from sla.clocks.recount import calendar_edited_by
from sla.clocks.selectors import calendar_snapshot
from sla.clocks.values import ClockKind
from sla.models import Calendar, Clock, Closure, Metric, SlaPolicy
from tickets.models import Contact, Desk, Organization, Severity, Status, Ticket, User


def seed(total: int) -> tuple[Calendar, User]:
    calendar = Calendar.objects.get(slug="europe")
    cal = calendar_snapshot(calendar)
    policy = SlaPolicy.objects.get(slug="standard")
    targets = {(t.severity, t.metric): t for t in policy.versions.get().targets.all()}
    manager = User.objects.create(username="maya", first_name="Maya", role=User.Role.MANAGER)
    desk = Desk.objects.create(slug="eu", name="Europe", calendar=calendar,
                               email="eu@pacte.example", region="europe")  # fmt: skip
    org = Organization.objects.create(name="Acme", slug="acme", sla_policy=policy)
    org.desks.add(desk)
    contact = Contact.objects.create(organization=org, name="Alice", region="europe",
                                     email="alice@example.com")  # fmt: skip
    rng = random.Random(2026)
    tickets = Ticket.objects.bulk_create(
        Ticket(
            subject=f"Incident {n}", requester=contact, organization=org, desk=desk,
            severity=rng.choice(list(Severity)), status=Status.IN_PROGRESS,
            received_at=NOW - timedelta(minutes=rng.randrange(3 * 24 * 60)),
        )
        for n in range(total)
    )  # fmt: skip
    clocks = []
    for ticket in tickets:
        for metric in (Metric.ACKNOWLEDGEMENT, Metric.CORRECTION):
            target = targets[(ticket.severity, metric)]
            kind = ClockKind(target.kind)
            start = clock_start(cal, kind, ticket.received_at)
            paused = metric == Metric.CORRECTION and rng.random() < 0.1
            runs = [(start, max(start, NOW - timedelta(hours=1)))] if paused else [(start, None)]
            times = deadlines(cal, kind, runs, target.duration, policy.warning_percent,
                              policy.escalation_percent)  # fmt: skip
            clocks.append(Clock(
                ticket=ticket, metric=metric, kind=kind, target=target.duration,
                warning_percent=policy.warning_percent,
                escalation_percent=policy.escalation_percent, started_at=start,
                runs=[[s.isoformat(), e.isoformat() if e else None] for s, e in runs],
                state=Clock.State.PAUSED if paused else Clock.State.RUNNING,
                due_at=times.due_at, warn_at=times.warn_at, escalate_at=times.escalate_at,
            ))  # fmt: skip
    Clock.objects.bulk_create(clocks, batch_size=5_000)
    return calendar, manager


def edit(calendar: Calendar, manager: User, add: bool) -> tuple[float, int]:
    """One manager's edit, committed, and the batch it starts; (seconds, SQL queries)."""
    started = time.perf_counter()
    with (
        CaptureQueriesContext(connection) as queries,
        calendar_edited_by(manager),
        transaction.atomic(),
    ):
        if add:
            Closure.objects.create(calendar=calendar, start=date(2026, 12, 21),
                                   end=date(2027, 1, 3), label="Year end")  # fmt: skip
        else:
            Closure.objects.filter(calendar=calendar, label="Year end").delete()
    return time.perf_counter() - started, len(queries)


def main() -> int:
    call_command("migrate", verbosity=0)
    calendar, manager = seed(ARGS.tickets)
    clocks = Clock.objects.exclude(state=Clock.State.STOPPED).count()
    before = dict(Clock.objects.values_list("pk", "due_at"))
    closing = datetime(2026, 12, 21, tzinfo=ZoneInfo("Europe/Berlin"))
    expected = sum(due is not None and due >= closing for due in before.values())
    print(*machine_facts(), sep="\n")
    print(f"clocks    {clocks:,} running or paused on one calendar, {ARGS.tickets:,} tickets")
    print(f"due on or after the closure's first day: {expected:,}")
    timings, failed = [], False
    with time_machine.travel(NOW, tick=False):
        for run in range(ARGS.runs * 2):
            add = run % 2 == 0
            seconds, queries = edit(calendar, manager, add)
            after = dict(Clock.objects.values_list("pk", "due_at"))
            moved = sum(after[pk] != before[pk] for pk in before)
            if moved != (expected if add else 0):
                print(f"FAILED: {moved:,} deadlines moved, {expected if add else 0:,} expected")
                failed = True
            timings.append(seconds)
            print(f"{'add   ' if add else 'remove'}    {seconds:6.2f} s  {queries:5d} queries  "
                  f"{moved:,} deadlines away from the original")  # fmt: skip
    median = statistics.median(timings)
    print(f"recount   min {min(timings):.2f} s  median {median:.2f} s  max {max(timings):.2f} s "
          f"for {clocks:,} clocks; goal < {GOAL_SECONDS:.0f} s: "
          f"{'met' if max(timings) < GOAL_SECONDS else 'MISSED'}")  # fmt: skip
    return 1 if failed or max(timings) >= GOAL_SECONDS else 0


if __name__ == "__main__":
    sys.exit(main())
