"""Server time and SQL queries of Pacte's ticket pages and API calls at 100,000 tickets.

    .venv/bin/python bench/queue.py [--tickets 100000] [--runs 30] [--database-url URL]

Works on its own database, never var/pacte.sqlite3; see bench/README.md. Exits 1 if a query
count varies across runs or database sizes, or if the queue misses its target.
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
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

ROOT, HERE = Path(__file__).resolve().parents[1], Path(__file__).resolve().parent
# This file is named queue.py: its folder on sys.path would hide the standard library's queue.
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != HERE)]
SQLITE_FILE = ROOT / "var" / "bench-queue.sqlite3"
HELPDESK_LIST_MS = 824.0  # django-helpdesk's staff list at 100,000 tickets on this machine
TARGET_MS = HELPDESK_LIST_MS / 15
BATCH = 5_000
# Weights of new, acknowledged, in progress, waiting, resolved and closed, by age in days.
STATUSES = [(2, (40, 30, 20, 10, 0, 0)), (30, (5, 10, 20, 15, 30, 20)), (366, (0, 0, 1, 1, 8, 90))]


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
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from sla.calendar import ClockKind, clock_start
from sla.deadlines import instant_reaching
from sla.models import Calendar, Clock, Metric, SlaPolicy
from sla.selectors import calendar_snapshot
from tickets import services
from tickets.models import (
    Channel,
    Contact,
    Desk,
    Message,
    Organization,
    Severity,
    Status,
    Ticket,
    User,
)

if TYPE_CHECKING:  # what django.test.Client returns
    from django.test.client import _MonkeyPatchedWSGIResponse as Response


def machine_facts() -> list[str]:
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    cpu = next((line.split(":")[1].strip() for line in lines if "model name" in line), "")
    with connection.cursor() as cursor:
        sqlite = connection.vendor == "sqlite"
        cursor.execute("SELECT 'SQLite ' || sqlite_version()" if sqlite else "SELECT version()")
        database = cursor.fetchone()[0]
    return [
        f"date      {datetime.now(UTC).astimezone():%Y-%m-%d %H:%M %Z}",
        f"python    {platform.python_version()}, Django {django.get_version()}",
        f"cpu       {cpu or platform.processor()}, {os.cpu_count()} cores",
        f"database  {database}",
        f"system    {platform.platform()}",
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
        for slug, lead in [("europe", "anna"), ("north-america", "nate"), ("france", "fanny")]:
            staff = [User(username=f"{slug}-{i}" if i else lead, role="agent") for i in range(6)]
            User.objects.bulk_create(staff)
            desks[slug] = desk = Desk.objects.create(
                slug=slug,
                name=slug.replace("-", " ").title(),
                email=f"{slug}@pacte.example",
                lead=staff[0],
                region="north-america" if slug == "north-america" else "europe",
                calendar=Calendar.objects.get(slug=slug),
            )
            desk.agents.add(*staff)
            self.agents[desk.pk], self.people[lead] = staff, staff[0]
        self.pool: list[tuple[Contact, Desk]] = []  # Kiosk Vision, first, has a tenth of all
        for i in range(200):
            served = (
                [desks["europe"], desks["north-america"]]
                if i == 0
                else [desks["france"]]
                if i % 7 == 1
                else [desks[self.rng.choice(["europe", "north-america"])]]
            )
            org = Organization.objects.create(
                name=f"Customer {i:03d}" if i else "Kiosk Vision",
                slug=f"org-{i}",
                sla_policy=policy,
            )
            org.desks.add(*served)
            users = [
                User(username=f"org-{i}-{n}" if i or n else "klaus", role="customer")
                for n in range(self.rng.randint(3, 6))
            ]
            contacts = [
                Contact(
                    organization=org,
                    user=user,
                    name=user.username.title(),
                    email=f"{user.username}@customer.example",
                    region=served[n % len(served)].region,
                    role=Contact.Role.MEMBER if n else Contact.Role.ADMIN,
                )
                for n, user in enumerate(User.objects.bulk_create(users))
            ]
            Contact.objects.bulk_create(contacts)
            self.people.setdefault("klaus", users[0])
            weight = 20 if i == 0 else 1
            self.pool += [(c, served[n % len(served)]) for n, c in enumerate(contacts)] * weight

    def reach(self, desk: str, kind: str, start: datetime, amount: timedelta) -> datetime:
        """When a clock running since `start` has counted `amount` (sla.deadlines)."""
        key = (desk, kind, start, amount)
        if key not in self.cache:  # business clocks of tickets sent when closed share a start
            due = instant_reaching(self.calendars[desk], ClockKind(kind), [(start, None)], amount)
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
            ticket=ticket,
            metric=metric,
            kind=target.kind,
            target=target.duration,
            warning_percent=self.warning,
            started_at=start,
            due_at=due,
            runs=[[start.isoformat(), stop and stop.isoformat()]],
        )
        if stop is None or paused:
            warning = target.duration * self.warning / 100
            clock.warn_at = self.reach(desk, target.kind, start, warning)
            clock.breached_at = due if due < self.now else None  # as the sweep marks it
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
        status = rng.choices(list(Status), next(w for days, w in STATUSES if age < days))[0]
        received = now - timedelta(days=age)
        acked = min(received + timedelta(minutes=rng.uniform(5, 36 * 60)), now)
        later = min(acked + timedelta(hours=rng.uniform(1, 240)), now)
        ticket = Ticket(
            subject=f"Kiosk {rng.randrange(10_000)} shows a blank screen",
            status=status,
            severity=rng.choices(list(Severity), (10, 35, 55))[0],
            desk=desk,
            channel=rng.choices(list(Channel), (50, 30, 5, 5, 10))[0],
            requester=contact,
            organization=contact.organization,
            received_at=received,
            updated_at=received if status == Status.NEW else later,
        )
        if status != Status.NEW or rng.random() < 0.3:
            ticket.assignee = rng.choice(self.agents[desk.pk])
        working = status in (Status.NEW, Status.ACKNOWLEDGED, Status.IN_PROGRESS)
        clocks = [
            self.clock(
                ticket,
                Metric.ACKNOWLEDGEMENT,
                None if status == Status.NEW else acked,
                paused=False,
            ),
            self.clock(
                ticket,
                Metric.CORRECTION,
                None if working else later,
                paused=status == Status.WAITING_ON_CUSTOMER,
            ),
        ]
        running = [c.due_at for c in clocks if c.state == Clock.State.RUNNING and c.due_at]
        ticket.sla_due_at = min(running, default=None)
        rows: list[Message | Clock] = [
            *clocks,
            Message(
                ticket=ticket,
                author=contact.user,
                author_contact=contact,
                channel=ticket.channel,
                body="Since the update, our kiosks show a blank screen.",
                received_at=received,
            ),
        ]
        if status != Status.NEW:
            rows.append(
                Message(
                    ticket=ticket,
                    author=ticket.assignee,
                    from_agent=True,
                    channel=Channel.WEB,
                    body="We reproduce it.",
                    received_at=acked,
                )
            )
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


def on_top(people: dict[str, User], step: int, reference: str | None) -> str:
    """Writes through the real services on the bulk rows; returns the followed ticket."""
    klaus, anna = people["klaus"], people["anna"]
    if reference is None:
        ticket = services.ticket_create(
            requester=klaus.contact,
            subject="Kiosks show a blank screen",
            severity="blocking",
            description="14 of our 20 kiosks are blank.",
            channel=Channel.WEB,
            actor=klaus,
        )
    else:
        ticket = Ticket.objects.get(pk=int(reference.split("-")[1]))
        services.ticket_reply(ticket=ticket, author=klaus, body=f"Still blank (step {step}).")
    services.ticket_reply(ticket=ticket, author=anna, body="On it.", internal=step > 2)
    for severity in Severity:
        extra = services.ticket_create(
            requester=klaus.contact,
            subject="Service check",
            description="From the bench.",
            severity=severity,
            channel=Channel.API,
            actor=klaus,
        )
        extra.refresh_from_db()
        if extra.clocks.count() != 2 or extra.sla_due_at is None:
            sys.exit(f"ticket_create on the bulk rows left {extra.reference} without its clocks")
    return ticket.reference


@dataclass
class Scenario:
    name: str
    call: Callable[[], Response]
    status: int
    rows: Callable[[Response], int] = lambda response: 0
    times: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    shown: int = 0  # rows on the page

    def measure(self, runs: int, timed: bool) -> Scenario:
        """Warm up, then `runs` requests timed (if asked) and as many counted."""

        def call() -> Response:
            response = self.call()
            if response.status_code != self.status:
                sys.exit(f"{self.name}: HTTP {response.status_code}\n{response.content[:3000]!r}")
            return response

        call()  # URL resolver, templates, content types
        for _ in range(runs):
            if timed:
                start = time.perf_counter()
                call()
                self.times.append((time.perf_counter() - start) * 1000)
            with CaptureQueriesContext(connection) as captured:
                self.shown = self.rows(call())
            self.queries.append(len(captured.captured_queries))
        return self


def html_rows(response: Response) -> int:
    content = response.content  # queue and list rows, or the ticket's timeline entries
    marks = (b'<span class="ref">', b'<li class="msg', b'<li class="event"')
    return sum(content.count(mark) for mark in marks)


def api_rows(response: Response) -> int:
    data = response.json()  # type: ignore[attr-defined]  # the test client's response
    return len(data["results"] if "results" in data else data["clocks"])


def scenarios(people: dict[str, User], reference: str) -> list[Scenario]:
    def browser(name: str) -> Client:
        client = Client()
        client.force_login(people[name])
        return client

    def api(name: str) -> Client:
        token = Token.objects.get_or_create(user=people[name])[0]
        return Client(headers={"authorization": f"Token {token.key}"})

    anna, maya, klaus = browser("anna"), browser("maya"), browser("klaus")
    anna_api, maya_api, klaus_api = api("anna"), api("maya"), api("klaus")
    new = {"subject": "Printer offline", "severity": "minor", "description": "It is off."}
    ticket, api_ticket = f"/tickets/{reference}/", f"/api/tickets/{reference}/"
    return [
        Scenario("queue /desk/ (agent, 1 desk)", lambda: anna.get("/desk/"), 200, html_rows),
        Scenario("queue /desk/ (manager, all)", lambda: maya.get("/desk/"), 200, html_rows),
        Scenario("ticket page (agent)", lambda: anna.get(ticket), 200, html_rows),
        Scenario("customer list (org admin)", lambda: klaus.get("/tickets/"), 200, html_rows),
        Scenario("API list (agent, token)", lambda: anna_api.get("/api/tickets/"), 200, api_rows),
        Scenario("API list (manager, token)", lambda: maya_api.get("/api/tickets/"), 200, api_rows),
        Scenario("API detail (agent, token)", lambda: anna_api.get(api_ticket), 200, api_rows),
        Scenario("create: form POST (customer)", lambda: klaus.post("/tickets/new/", new), 302),
        Scenario(
            "create: API POST (customer)",
            lambda: klaus_api.post("/api/tickets/", new, content_type="application/json"),
            201,
        ),
    ]


def main() -> int:
    if connection.introspection.table_names():
        sys.exit("The database is not empty: give an empty one, or one whose name has 'bench'.")
    call_command("migrate", verbosity=0)
    print("\n".join(machine_facts()))
    steps = sorted({min(30, ARGS.tickets), min(1_000, ARGS.tickets), ARGS.tickets})
    seeder, reference = Seeder(), None
    found: dict[int, list[Scenario]] = {}  # by tickets in the database
    for step, total in enumerate(steps, 1):
        started = time.perf_counter()
        seeder.seed(total)
        if connection.vendor == "postgresql":  # as autovacuum would after such an insert
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        seconds = time.perf_counter() - started
        reference = on_top(seeder.people, step, reference)
        size, last = Ticket.objects.count(), total == steps[-1]
        load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
        print(
            f"step {step}: {total:,} tickets bulk-inserted ({seconds:.1f} s), {size:,} in all;"
            f" load average {load}"
        )
        results = scenarios(seeder.people, reference)
        found[size] = [s.measure(ARGS.runs if last else 3, timed=last) for s in results]
    print(f"\n{f'{size:,} tickets, {ARGS.runs} runs':34} median ms   p95 ms  queries  constant")
    for s in results:
        ordered = sorted(s.times)
        p95 = ordered[-(-len(ordered) * 95 // 100) - 1]  # nearest rank
        constant = "yes" if len(set(s.queries)) == 1 else "NO: " + "/".join(map(str, s.queries))
        median = statistics.median(ordered)
        print(f"{s.name:34} {median:9.1f} {p95:8.1f} {s.queries[-1]:8}  {constant}")
    print(f"\n{'queries (rows shown) at … tickets':34}" + "".join(f"{n:>13,}" for n in found))
    failed = False
    for i, s in enumerate(results):
        cells = [found[size][i] for size in found]
        seen = {q for cell in cells for q in cell.queries}
        failed |= len(seen) > 1
        print(
            f"{s.name:34}"
            + "".join(f"{c.queries[-1]:>6} ({c.shown:>4})" for c in cells)
            + ("" if len(seen) == 1 else "  VARIES")
        )
    queue = max(statistics.median(s.times) for s in results if s.name.startswith("queue"))
    failed |= queue > TARGET_MS
    print(
        f"\nqueue target: median ≤ {TARGET_MS:.1f} ms (django-helpdesk {HELPDESK_LIST_MS:.0f} ms"
        f" / 15); slowest queue {queue:.1f} ms, {HELPDESK_LIST_MS / queue:.0f}× faster: "
        + ("met" if queue <= TARGET_MS else "MISSED")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
