"""Server time and SQL queries of Pacte's ticket pages and API calls at 100,000 tickets.

    .venv/bin/python bench/queue.py [--tickets 100000] [--runs 30] [--database-url URL]

By default the bench owns var/bench-queue.sqlite3 and recreates it on every run; the developer's
var/pacte.sqlite3 is never opened. With postgres://…/NAME, a NAME containing "bench" is dropped
and created again; any other database must exist and be empty.

After `migrate`, tickets are bulk-inserted in steps (30, 1,000, then --tickets), each followed by
a few writes through the real services. Query counts are taken at every step, times at the last.
Requests go through django.test.Client in this process: server time is perf_counter around
client.get/post; queries are counted with CaptureQueriesContext on a second, identical request,
so that counting never slows a timed one. Exits 1 if a query count varies or grows with the
rows or the tickets, or if the queue misses its target.
"""
# ruff: noqa: E402  (the project's modules are imported once Django is set up, below)

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
# This file is named queue.py: its folder on sys.path would hide the standard library's queue.
HERE = Path(__file__).resolve().parent
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != HERE)]
SQLITE_FILE = ROOT / "var" / "bench-queue.sqlite3"
HELPDESK_LIST_MS = 824.0  # django-helpdesk's staff list at 100,000 tickets on this machine
TARGET_MS = HELPDESK_LIST_MS / 15
BATCH = 5_000
# Weights of new, acknowledged, in progress, waiting, resolved, closed by age in days.
STATUS_WEIGHTS = [(2, (40, 30, 20, 10, 0, 0)), (30, (5, 10, 20, 15, 30, 20)), (999, (0, 0, 1, 1, 8, 90))]


def use_database(url: str | None) -> None:
    """Point Django at the bench database, before setup; recreate it when it is ours."""
    if url is None:
        SQLITE_FILE.parent.mkdir(exist_ok=True)
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{SQLITE_FILE}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{SQLITE_FILE}"
    elif url.startswith(("postgres://", "postgresql://")) and "bench" in urlsplit(url).path:
        import psycopg
        from psycopg import sql

        name = sql.Identifier(urlsplit(url).path.lstrip("/"))
        with psycopg.connect(urlsplit(url)._replace(path="/postgres").geturl()) as server:
            server.autocommit = True
            server.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
            server.execute(sql.SQL("CREATE DATABASE {}").format(name))
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"


parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--tickets", type=int, default=100_000)
parser.add_argument("--runs", type=int, default=30)
parser.add_argument("--database-url", help="postgres://… (default: var/bench-queue.sqlite3)")
ARGS = parser.parse_args()
use_database(ARGS.database_url)
warnings.filterwarnings("ignore", message="No directory at")  # whitenoise, without collectstatic

import django

django.setup()

from django.core.management import call_command
from django.db import connection, transaction
from django.http import HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from sla.calendar import ClockKind, clock_start
from sla.deadlines import instant_reaching
from sla.models import Calendar, Clock, Metric, SlaPolicy
from sla.selectors import calendar_snapshot
from tickets import services
from tickets.models import Channel, Contact, Desk, Message, Organization, Severity, Status
from tickets.models import Ticket, User


def machine_facts() -> list[str]:
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    cpu = next((line.split(":", 1)[1].strip() for line in lines if "model name" in line), "")
    if connection.vendor == "sqlite":
        database = f"SQLite {connection.Database.sqlite_version}"
    else:
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            database = cursor.fetchone()[0]
    return [
        f"date      {datetime.now(UTC).astimezone():%Y-%m-%d %H:%M %Z}",
        f"python    {platform.python_version()}, Django {django.get_version()}, {platform.platform()}",
        f"cpu       {cpu or platform.processor()}, {os.cpu_count()} cores",
        f"database  {database}",
    ]


class Seeder:
    """Bulk rows shaped as tickets.demo and the services would leave them, over one year."""

    def __init__(self) -> None:
        self.rng, self.now, self.seeded = random.Random(2024), datetime.now(UTC), 0
        policy = SlaPolicy.objects.get(slug="standard")
        self.warning = policy.warning_percent
        self.targets = {(t.severity, t.metric): t for t in policy.targets.all()}
        calendars = Calendar.objects.prefetch_related("intervals", "closures", "extra_openings")
        self.calendars = {c.slug: calendar_snapshot(c) for c in calendars}
        self.cache: dict[tuple[object, ...], datetime] = {}
        self.people = {"maya": User.objects.create(username="maya", role=User.Role.MANAGER)}
        self.agents: dict[int, list[User]] = {}
        desks = {}
        for slug, name, lead in [
            ("europe", "Europe", "anna"),
            ("north-america", "North America", "nate"),
            ("france", "France", "fanny"),
        ]:
            staff = User.objects.bulk_create(
                User(username=f"{slug}-{i}" if i else lead, role=User.Role.AGENT) for i in range(6)
            )
            region = "north-america" if slug == "north-america" else "europe"
            desks[slug] = desk = Desk.objects.create(
                slug=slug, name=name, region=region, email=f"{slug}@pacte.example",
                calendar=Calendar.objects.get(slug=slug), lead=staff[0],
            )
            desk.agents.add(*staff)
            self.agents[desk.pk], self.people[lead] = staff, staff[0]
        self.pool: list[tuple[Contact, Desk]] = []  # Kiosk Vision has a tenth of all tickets
        for i in range(200):
            served = (
                [desks["europe"], desks["north-america"]] if i == 0
                else [desks["france"]] if i % 7 == 1
                else [desks[self.rng.choice(["europe", "north-america"])]]
            )
            org = Organization.objects.create(
                name="Kiosk Vision" if i == 0 else f"Customer {i:03d}", slug=f"org-{i}",
                sla_policy=policy,
            )
            org.desks.add(*served)
            users = User.objects.bulk_create(
                User(username="klaus" if i == n == 0 else f"org-{i}-{n}", role=User.Role.CUSTOMER)
                for n in range(self.rng.randint(3, 6))
            )
            contacts = Contact.objects.bulk_create(
                Contact(
                    organization=org, user=user, name=user.username.title(),
                    email=f"{user.username}@customer.example", region=served[n % len(served)].region,
                    role=Contact.Role.ADMIN if n == 0 else Contact.Role.MEMBER,
                )
                for n, user in enumerate(users)
            )
            self.pool += [(c, served[n % len(served)]) for n, c in enumerate(contacts)] * (
                20 if i == 0 else 1
            )
        self.people["klaus"] = self.pool[0][0].user  # type: ignore[assignment]  # has a login

    def reach(self, desk: str, kind: str, start: datetime, amount: timedelta) -> datetime:
        """When a clock running since `start` has counted `amount` (sla.deadlines)."""
        key = (desk, kind, start, amount)
        if key not in self.cache:  # business clocks of tickets sent after hours share a start
            runs = [(start, None)]
            due = instant_reaching(self.calendars[desk], ClockKind(kind), runs, amount)
            assert due is not None
            self.cache[key] = due
        return self.cache[key]

    def clock(self, ticket: Ticket, metric: str, end: datetime | None, paused: bool) -> Clock:
        """A clock as sla.services leaves it: running, or paused or stopped at `end`."""
        target, desk = self.targets[(ticket.severity, metric)], ticket.desk.slug
        start = clock_start(self.calendars[desk], ClockKind(target.kind), ticket.received_at)
        due = self.reach(desk, target.kind, start, target.duration)
        stop = None if end is None else max(end, start)
        clock = Clock(
            ticket=ticket, metric=metric, kind=target.kind, target=target.duration,
            warning_percent=self.warning, started_at=start, due_at=due,
            runs=[[start.isoformat(), stop and stop.isoformat()]],
        )
        if stop is None or paused:
            warn = self.reach(desk, target.kind, start, target.duration * self.warning / 100)
            clock.warn_at, clock.breached_at = warn, due if due < self.now else None
        if stop is not None and paused:  # instants the closed run does not reach are unknown
            clock.state = Clock.State.PAUSED
            clock.due_at = clock.breached_at = due if due <= stop else None
            clock.warn_at = clock.warn_at if clock.warn_at and clock.warn_at <= stop else None
        elif stop is not None:
            clock.state, clock.stopped_at = Clock.State.STOPPED, end
            clock.breached_at = due if due < stop else None
            clock.outcome = Clock.Outcome.BREACHED if clock.breached_at else Clock.Outcome.MET
        return clock

    def ticket(self, age: float) -> tuple[Ticket, list[Message | Clock]]:
        rng, now = self.rng, self.now
        contact, desk = rng.choice(self.pool)
        status = rng.choices(list(Status), next(w for days, w in STATUS_WEIGHTS if age < days))[0]
        received = now - timedelta(days=age)
        acked = min(received + timedelta(minutes=rng.uniform(5, 36 * 60)), now)
        later = min(acked + timedelta(hours=rng.uniform(1, 240)), now)
        ticket = Ticket(
            subject=f"Kiosk {rng.randrange(10_000)} shows a blank screen", status=status,
            severity=rng.choices(list(Severity), (10, 35, 55))[0],
            channel=rng.choices(list(Channel), (50, 30, 5, 5, 10))[0], desk=desk,
            organization=contact.organization, requester=contact, received_at=received,
            updated_at=received if status == Status.NEW else later,
        )
        if status != Status.NEW or rng.random() < 0.3:
            ticket.assignee = rng.choice(self.agents[desk.pk])
        working = status in (Status.NEW, Status.ACKNOWLEDGED, Status.IN_PROGRESS)
        waiting = status == Status.WAITING_ON_CUSTOMER
        clocks = [
            self.clock(ticket, Metric.ACKNOWLEDGEMENT, None if status == Status.NEW else acked, False),
            self.clock(ticket, Metric.CORRECTION, None if working else later, waiting),
        ]
        dues = [c.due_at for c in clocks if c.state == Clock.State.RUNNING and c.due_at]
        ticket.sla_due_at = min(dues, default=None)
        rows: list[Message | Clock] = [*clocks, Message(
            ticket=ticket, author=contact.user, author_contact=contact, channel=ticket.channel,
            body="Since the update, kiosks show a blank screen.", received_at=received,
        )]
        if status != Status.NEW:
            rows.append(Message(
                ticket=ticket, author=ticket.assignee, from_agent=True, channel=Channel.WEB,
                body="Thank you, we can reproduce it.", received_at=acked,
            ))
        return ticket, rows

    def seed(self, total: int) -> None:
        """Add tickets up to `total`, received over the past year, oldest first, in batches."""
        ages = sorted((self.rng.uniform(0, 365) for _ in range(total - self.seeded)), reverse=True)
        self.seeded = total
        for first in range(0, len(ages), BATCH):
            batch = [self.ticket(age) for age in ages[first : first + BATCH]]
            rows = [row for _, ticket_rows in batch for row in ticket_rows]
            with transaction.atomic():
                Ticket.objects.bulk_create([ticket for ticket, _ in batch])
                Message.objects.bulk_create([r for r in rows if isinstance(r, Message)])
                Clock.objects.bulk_create([r for r in rows if isinstance(r, Clock)])


@dataclass
class Scenario:
    name: str
    call: Callable[[], HttpResponse]
    status: int
    rows: Callable[[HttpResponse], int] = lambda response: 0
    times: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)


def html_rows(response: HttpResponse) -> int:
    return response.content.count(b'<span class="ref">')


def timeline_rows(response: HttpResponse) -> int:
    return response.content.count(b'<li class="msg') + response.content.count(b'<li class="event')


def api_rows(response: HttpResponse) -> int:
    data = response.json()  # type: ignore[attr-defined]  # the test client's response
    return len(data["results"] if "results" in data else data["clocks"])


def scenarios(people: dict[str, User], reference: str) -> list[Scenario]:
    def browser(name: str) -> Client:
        client = Client()
        client.force_login(people[name])
        return client

    def api(name: str) -> Client:
        return Client(headers={"authorization": f"Token {Token.objects.get_or_create(user=people[name])[0]}"})

    anna, maya, klaus = browser("anna"), browser("maya"), browser("klaus")
    anna_api, maya_api, klaus_api = api("anna"), api("maya"), api("klaus")
    new = {"subject": "Printer offline", "severity": "minor", "description": "It is off."}
    return [
        Scenario("queue /desk/ (agent, 1 desk)", lambda: anna.get("/desk/"), 200, html_rows),
        Scenario("queue /desk/ (manager, all)", lambda: maya.get("/desk/"), 200, html_rows),
        Scenario("ticket page (agent)", lambda: anna.get(f"/tickets/{reference}/"), 200, timeline_rows),
        Scenario("customer list (org admin)", lambda: klaus.get("/tickets/"), 200, html_rows),
        Scenario("API list (agent, token)", lambda: anna_api.get("/api/tickets/"), 200, api_rows),
        Scenario("API list (manager, token)", lambda: maya_api.get("/api/tickets/"), 200, api_rows),
        Scenario("API detail (agent, token)", lambda: anna_api.get(f"/api/tickets/{reference}/"), 200, api_rows),
        Scenario("create: form POST", lambda: klaus.post("/tickets/new/", new), 302),
        Scenario("create: API POST (token)", lambda: klaus_api.post("/api/tickets/", new, content_type="application/json"), 201),
    ]


def measure(scenario: Scenario, runs: int, timed: bool) -> int:
    """Warm up, then `runs` requests timed (if asked) and as many counted; the last rows."""

    def call() -> HttpResponse:
        response = scenario.call()
        if response.status_code != scenario.status:
            sys.exit(f"{scenario.name}: HTTP {response.status_code}\n{response.content[:3000]!r}")
        return response

    call()  # URL resolver, templates, content types
    rows = 0
    for _ in range(runs):
        if timed:
            start = time.perf_counter()
            call()
            scenario.times.append((time.perf_counter() - start) * 1000)
        with CaptureQueriesContext(connection) as captured:
            rows = scenario.rows(call())
        scenario.queries.append(len(captured.captured_queries))
    return rows


def on_top(people: dict[str, User], step: int, reference: str | None) -> str:
    """Writes through the real services on the bulk rows; returns the followed ticket."""
    klaus, anna = people["klaus"], people["anna"]
    if reference is None:
        ticket = services.ticket_create(
            requester=klaus.contact, subject="Kiosks show a blank screen", severity="blocking",
            description="14 of our 20 kiosks are blank.", channel=Channel.WEB, actor=klaus,
        )
    else:
        ticket = Ticket.objects.get(pk=Ticket.id_from_reference(reference))
        services.ticket_reply(ticket=ticket, author=klaus, body=f"Still blank (step {step}).")
    services.ticket_reply(ticket=ticket, author=anna, body="On it.", internal=step > 2)
    for severity in Severity:
        extra = services.ticket_create(
            requester=klaus.contact, subject="Service check", description="From the bench.",
            severity=severity, channel=Channel.API, actor=klaus,
        )
        extra.refresh_from_db()
        if extra.clocks.count() != 2 or extra.sla_due_at is None:
            sys.exit(f"ticket_create on the bulk rows left {extra.reference} without its clocks")
    return ticket.reference


def main() -> int:
    if connection.introspection.table_names():
        sys.exit("The database is not empty: give an empty one, or one whose name has 'bench'.")
    call_command("migrate", verbosity=0)
    print("\n".join(machine_facts()))
    steps = sorted({min(30, ARGS.tickets), min(1_000, ARGS.tickets), ARGS.tickets})
    seeder, reference = Seeder(), None
    found: dict[int, dict[str, tuple[list[int], int]]] = {}  # queries and rows, by scenario
    for step, total in enumerate(steps, 1):
        started = time.perf_counter()
        seeder.seed(total)
        seconds = time.perf_counter() - started
        reference = on_top(seeder.people, step, reference)
        size, last = Ticket.objects.count(), total == steps[-1]
        load = " ".join(f"{value:.2f}" for value in os.getloadavg())
        print(f"\nstep {step}: bulk insert up to {total:,} tickets in {seconds:.1f} s; "
              f"{size:,} tickets; load average {load}")
        results = scenarios(seeder.people, reference)
        found[size] = {s.name: (s.queries, measure(s, ARGS.runs if last else 3, last)) for s in results}
    print(f"\n{'at ' + format(size, ',') + ' tickets':32} {'median ms':>10} {'p95 ms':>8} {'queries':>8}  constant")
    for s in results:
        ordered = sorted(s.times)
        p95 = ordered[-(-len(ordered) * 95 // 100) - 1]  # nearest rank
        queries = "/".join(str(q) for q in sorted(set(s.queries)))
        print(f"{s.name:32} {statistics.median(ordered):10.1f} {p95:8.1f} {queries:>8}  "
              f"{'yes' if len(set(s.queries)) == 1 else 'NO'}")
    print(f"\n{'queries (rows) at … tickets':32}" + "".join(f" {n:>12,}" for n in found))
    failed = False
    for s in results:
        seen = {q for counts in found.values() for q in counts[s.name][0]}
        failed |= len(seen) > 1
        cells = "".join(f" {q[-1]:>5} ({rows:>4})" for q, rows in (c[s.name] for c in found.values()))
        print(f"{s.name:32}{cells}{'' if len(seen) == 1 else '  VARIES'}")
    queue = max(statistics.median(s.times) for s in results if s.name.startswith("queue"))
    failed |= queue > TARGET_MS
    print(f"\nqueue target: median ≤ {TARGET_MS:.1f} ms (django-helpdesk {HELPDESK_LIST_MS:.0f} ms"
          f" / 15); slowest queue {queue:.1f} ms, {HELPDESK_LIST_MS / queue:.0f}× faster: "
          f"{'met' if queue <= TARGET_MS else 'MISSED'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
