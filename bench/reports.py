"""Server time and SQL queries of the SLA report, its CSV and a status page over a year of
100,000 tickets.

    .venv/bin/python bench/reports.py [--tickets 100000] [--runs 10] [--database-url URL]

Works on its own database (var/bench-reports.sqlite3 by default); the tickets are
bench/seeding.py's, received over the past year. Exits 1 if the year's report page takes a
second or more (the target of issue 8) or if its query count changes with the data.
"""
# ruff: noqa: E402  (the project's modules are imported once Django is set up, below)

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]

from bench.benchdb import bench_file, machine_facts, use_database

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--tickets", type=int, default=100_000)
parser.add_argument("--runs", type=int, default=10)
parser.add_argument("--database-url", help="postgres://… (default: var/bench-reports.sqlite3)")
parser.add_argument(
    "--reuse",
    action="store_true",
    help="measure the tickets an earlier run left in --database-url (migrated, counted again)",
)
ARGS = parser.parse_args()
use_database(ARGS.database_url, bench_file("bench-reports.sqlite3"))
warnings.filterwarnings("ignore", message="No directory at")

import django

django.setup()

from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.seeding import Seeder
from sla.availability import outages
from sla.reports import figures, rollups
from tests.accounts.second_factor import pass_second_factor
from tickets.models import Organization, Ticket, User
from tickets.tasks import sqlite_optimize_task

TARGET_S = 1.0


def measure(client: Client, url: str, runs: int) -> tuple[list[float], int, int]:
    """Times of ``runs`` requests after one warm-up, the query count, the response size."""
    response = client.get(url)  # URL resolver, templates, translations
    assert response.status_code == 200, (url, response.status_code)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    return times, len(captured.captured_queries), len(response.content)


def seed() -> User:
    """A year of tickets, their roll-ups counted, outages and maintenance; the manager."""
    if connection.introspection.table_names():
        sys.exit("The database is not empty: give an empty one, or one whose name has 'bench'.")
    call_command("migrate", verbosity=0)
    print("\n".join(machine_facts()))
    seeder = Seeder()
    started = time.perf_counter()
    seeder.seed(ARGS.tickets)
    print(f"seeded    {Ticket.objects.count():,} tickets in {time.perf_counter() - started:.1f} s")
    count_rollups()
    org = Organization.objects.get(slug="org-0")
    now = timezone.now()
    for day in range(0, 365, 9):  # an outage every 9 days, a maintenance every month
        outages.outage_record(
            organization=org,
            title=f"Outage {day}",
            started_at=now - timedelta(days=day, hours=3),
            ended_at=now - timedelta(days=day, hours=2, minutes=20),
        )
    for month in range(12):
        start = now - timedelta(days=30 * month + 5)
        outages.maintenance_announce(
            organization=org,
            title=f"Update {month}",
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            announced_at=start - timedelta(days=7),
        )
    return seeder.people["maya"]


def count_rollups() -> None:
    """What the beat does: the dirty days counted (every ten minutes), and SQLite's planner
    statistics (daily)."""
    started = time.perf_counter()
    days = rollups.dirty_days_count(limit=10_000)
    print(f"rolled up {days} days in {time.perf_counter() - started:.1f} s (daily roll-ups)")
    sqlite_optimize_task()


def main() -> int:
    if ARGS.reuse:
        call_command("migrate", verbosity=0)
        print("\n".join(machine_facts()))
        print(f"reused    {Ticket.objects.count():,} tickets")
        count_rollups()
        maya = User.objects.get(username="maya")
    else:
        maya = seed()
    org = Organization.objects.get(slug="org-0")
    now = timezone.now()
    manager = Client()
    manager.force_login(maya)
    pass_second_factor(manager, maya)  # staff sign in with their second factor
    year = f"?period=custom&start={(now - timedelta(days=365)).date()}&end={now.date()}"
    cases = [
        ("report page, a year, all tickets", f"/desk/reports/{year}"),
        ("report page, a month, all tickets", "/desk/reports/?period=month"),
        ("report page, a year, one organization", f"/desk/reports/{year}&organization={org.pk}"),
        ("report CSV, a year", f"/desk/reports/sla.csv{year}"),
        ("status page (90 days)", f"/status/{org.slug}/"),
    ]
    size = f"{Ticket.objects.count():,} tickets, {ARGS.runs} runs"
    print(f"\n{size:40} median ms  max ms  queries   bytes")
    failed = False
    for label, url in cases:
        times, queries, size = measure(manager, url, ARGS.runs)
        median = statistics.median(times)
        print(f"{label:40} {median * 1000:9.1f} {max(times) * 1000:7.1f} {queries:8} {size:7,}")
        if label.startswith("report page, a year, all") and median >= TARGET_S:
            failed = True
    # The year's figures alone, from the tickets and from the roll-ups, side by side.
    zone = timezone.get_current_timezone()
    year_filter = figures.ReportFilter(start=now - timedelta(days=365), end=now)
    year_tickets = figures.report_tickets(Ticket.objects.all(), year_filter)
    start, end = year_filter.start, year_filter.end
    for label, compute in [
        ("year's figures, from the tickets", lambda: figures.sla_report(
            year_tickets, start=start, end=end, zone=zone)),
        ("year's figures, from the roll-ups", lambda: rollups.sla_report_rolled(
            year_filter, zone)),
    ]:  # fmt: skip
        compute()
        times = []
        for _ in range(ARGS.runs):
            started = time.perf_counter()
            compute()
            times.append(time.perf_counter() - started)
        median = statistics.median(times)
        print(f"{label:40} {median * 1000:9.1f} {max(times) * 1000:7.1f}")
    print(
        f"\ntarget: the year's report page under {TARGET_S:.0f} s: {'MISSED' if failed else 'met'}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
