"""Server time and SQL queries of Pacte's ticket pages and API, measured at 100,000 tickets.

    .venv/bin/python bench/queue.py [--tickets 100000] [--runs 30] [--database-url URL]

Without --database-url it works on its own SQLite file, var/bench-queue.sqlite3, recreated on
every run: the developer's var/pacte.sqlite3 is never opened. With postgres://…/NAME, a NAME
containing "bench" is dropped and created again; any other database must exist and be empty.

The database is migrated, then filled by bulk inserts in steps (30, 1,000, then --tickets
tickets) with a few tickets written by the real services on top. Every scenario's query count
is taken at each step; the timings at the last. Requests go through django.test.Client in
this process: server time is perf_counter around client.get/post; queries are counted with
CaptureQueriesContext on a second, identical request, so counting never slows a timed one.
Exits 1 if a query count varies or grows, or if the queue misses its target.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
SQLITE_FILE = ROOT / "var" / "bench-queue.sqlite3"
HELPDESK_LIST_MS = 824.0  # django-helpdesk's staff list at 100,000 tickets on this machine
TARGET_MS = HELPDESK_LIST_MS / 15
YEAR_S = 365 * 86400
BATCH = 5_000


def use_database(url: str | None) -> None:
    """Point Django at the bench database before setup; recreate it when it is ours."""
    if url is None:
        SQLITE_FILE.parent.mkdir(exist_ok=True)
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{SQLITE_FILE}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{SQLITE_FILE}"
    elif url.startswith(("postgres://", "postgresql://")):
        import psycopg
        from psycopg import sql

        name = urlsplit(url).path.lstrip("/")
        if "bench" in name:
            server = urlsplit(url)._replace(path="/postgres").geturl()
            with psycopg.connect(server, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(name)))
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"


def machine_facts() -> list[str]:
    import django
    from django.db import connection

    cpuinfo = Path("/proc/cpuinfo")
    models = [line.split(":", 1)[1].strip() for line in
              (cpuinfo.read_text().splitlines() if cpuinfo.exists() else [])
              if line.startswith("model name")]
    if connection.vendor == "sqlite":
        database = f"SQLite {connection.Database.sqlite_version}"
    else:
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            database = cursor.fetchone()[0]
    return [
        f"date      {datetime.now(UTC).astimezone():%Y-%m-%d %H:%M %Z}",
        f"python    {platform.python_version()} · Django {django.get_version()}"
        f" · {platform.system()} {platform.release()}",
        f"cpu       {models[0] if models else platform.processor() or 'unknown'}"
        f" · {os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable)",
        f"database  {database}",
    ]


@dataclass
class Seeder:
    """Bulk-writes customers, desks and tickets shaped like the demo data, over one year."""

    rng: random.Random = field(default_factory=lambda: random.Random(2024))
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    people: dict[str, Any] = field(default_factory=dict)
    pool: list[tuple[Any, Any]] = field(default_factory=list)  # (contact, desk) by weight
    agents: dict[str, list[Any]] = field(default_factory=dict)
    cache: dict[tuple[Any, ...], tuple[datetime, datetime]] = field(default_factory=dict)
    seeded: int = 0

    def setup(self) -> None:
        from sla.models import Calendar, SlaPolicy, SlaTarget
        from sla.selectors import calendar_snapshot
        from tickets.models import Contact, Desk, Organization, Region, User

        rng, policy = self.rng, SlaPolicy.objects.get(slug="standard")
        self.warning = policy.warning_percent
        self.targets = {(t.severity, t.metric): t for t in SlaTarget.objects.filter(policy=policy)}
        self.calendars = {c.slug: calendar_snapshot(c) for c in Calendar.objects.prefetch_related(
            "intervals", "closures", "extra_openings")}
        desks = {}
        for slug, name, region, lead in [("europe", "Europe", Region.EUROPE, "anna"),
                                         ("north-america", "North America",
                                          Region.NORTH_AMERICA, "nate"),
                                         ("france", "France", Region.EUROPE, "fanny")]:
            staff = User.objects.bulk_create(
                User(username=lead if i == 0 else f"{slug}-agent-{i}", role=User.Role.AGENT,
                     first_name=lead.title() if i == 0 else f"Agent {i}", password="!")
                for i in range(6))
            desks[slug] = Desk.objects.create(
                slug=slug, name=name, region=region, calendar=Calendar.objects.get(slug=slug),
                email=f"support-{slug}@pacte.example", lead=staff[0])
            desks[slug].agents.add(*staff)
            self.agents[slug] = staff
            self.people[lead] = staff[0]
        self.people["maya"] = User.objects.create(username="maya", role=User.Role.MANAGER,
                                                  first_name="Maya", password="!")
        orgs = Organization.objects.bulk_create(
            Organization(name=name, slug=f"org-{i}", sla_policy=policy)
            for i, name in enumerate(["Kiosk Vision", "Eventia",
                                      *(f"Customer {i:03d}" for i in range(2, 200))]))
        for i, org in enumerate(orgs):  # as the demo: Kiosk Vision on two desks, Eventia
            served = ([desks["europe"], desks["north-america"]] if i == 0 else [desks["france"]]
                      if i == 1 or i % 7 == 6 else [desks[rng.choice(list(Region))]])
            org.desks.add(*served)
            users = User.objects.bulk_create(
                User(username=f"{org.slug}-{n}", role=User.Role.CUSTOMER, password="!")
                for n in range(rng.randint(3, 6)))
            contacts = Contact.objects.bulk_create(
                Contact(organization=org, user=user, name=f"Contact {user.username}",
                        email=f"{user.username}@customer.example",
                        region=served[n % len(served)].region,
                        role=Contact.Role.ADMIN if n == 0 else Contact.Role.MEMBER)
                for n, user in enumerate(users))
            weight = 20 if i == 0 else 6 if i == 1 else 1  # Kiosk Vision: a tenth of all
            self.pool += [(c, next((d for d in served if d.region == c.region), served[0]))
                          for c in contacts] * weight
        klaus = self.pool[0][0]
        klaus.user.username = "klaus"
        klaus.user.save(update_fields=["username"])
        self.people["klaus"] = klaus.user

    def deadlines(self, desk: str, severity: str, metric: str, start: datetime
                  ) -> tuple[datetime, datetime]:
        from sla.calendar import ClockKind
        from sla.deadlines import deadlines

        key = (desk, severity, metric, start)
        if key not in self.cache:
            target = self.targets[(severity, metric)]
            times = deadlines(self.calendars[desk], ClockKind(target.kind), [(start, None)],
                              target.duration, self.warning)
            assert times.due_at is not None and times.warn_at is not None
            self.cache[key] = (times.due_at, times.warn_at)
        return self.cache[key]

    def clock(self, ticket: Any, metric: str, received: datetime, end: datetime | None,
              state: str) -> Any:
        """A clock as sla.services leaves it: running, paused at `end` or stopped at `end`."""
        from sla.calendar import ClockKind, clock_start
        from sla.models import Clock

        target = self.targets[(ticket.severity, metric)]
        start = clock_start(self.calendars[ticket.desk.slug], ClockKind(target.kind), received)
        due, warn = self.deadlines(ticket.desk.slug, ticket.severity, metric, start)
        stop = max(end, start) if end else None
        clock = Clock(ticket=ticket, metric=metric, kind=target.kind, target=target.duration,
                      warning_percent=self.warning, state=state, started_at=start,
                      runs=[[start.isoformat(), stop.isoformat() if stop else None]])
        if state == Clock.State.RUNNING:
            clock.due_at, clock.warn_at = due, warn
            clock.breached_at = due if due < self.now else None
        elif state == Clock.State.PAUSED:
            assert stop is not None
            clock.due_at = due if due <= stop else None  # unreached while paused: none yet
            clock.warn_at = warn if warn <= stop else None
            clock.breached_at = clock.due_at
        else:
            assert end is not None
            clock.due_at, clock.stopped_at = due, end
            clock.breached_at = due if due < end else None
            clock.outcome = Clock.Outcome.BREACHED if clock.breached_at else Clock.Outcome.MET
        return clock

    def seed(self, count: int) -> None:
        """Add `count` tickets received over the past year, oldest first, in batches."""
        from django.db import transaction

        from sla.models import Clock, Metric
        from tickets.models import Message, Status, Ticket, TicketEvent

        rng, now, running = self.rng, self.now, Clock.State.RUNNING
        self.seeded += count
        ages = sorted((rng.uniform(0, YEAR_S) for _ in range(count)), reverse=True)
        for offset in range(0, count, BATCH):
            tickets, messages, clocks, events = [], [], [], []
            for age in ages[offset:offset + BATCH]:
                contact, desk = rng.choice(self.pool)
                received = now - timedelta(seconds=age)
                days = age / 86400
                weights = ((40, 30, 20, 10, 0, 0) if days < 2 else (5, 10, 20, 15, 30, 20)
                           if days < 30 else (0, 0, 1, 1, 8, 90))
                status = rng.choices(list(Status), weights)[0]
                ticket = Ticket(
                    subject=f"Incident {rng.randrange(10**6):06d} on kiosk fleet", desk=desk,
                    severity=rng.choices(["blocking", "major", "minor"], (10, 35, 55))[0],
                    status=status, organization=contact.organization, requester=contact,
                    channel=rng.choices(["web", "email", "api", "phone", "chat"],
                                        (50, 30, 10, 5, 5))[0],
                    received_at=received, updated_at=received)
                acked = min(received + timedelta(minutes=rng.uniform(5, 2160)), now)
                later = min(acked + timedelta(hours=rng.uniform(1, 240)), now)
                if status != Status.NEW or rng.random() < 0.3:
                    ticket.assignee = rng.choice(self.agents[desk.slug])
                ack = (self.clock(ticket, Metric.ACKNOWLEDGEMENT, received, None, running)
                       if status == Status.NEW else
                       self.clock(ticket, Metric.ACKNOWLEDGEMENT, received, acked, "stopped"))
                correction = self.clock(
                    ticket, Metric.CORRECTION, received,
                    later if status in (Status.WAITING_ON_CUSTOMER, Status.RESOLVED,
                                        Status.CLOSED) else None,
                    "paused" if status == Status.WAITING_ON_CUSTOMER else running
                    if ticket.is_open else "stopped")
                dues = [c.due_at for c in (ack, correction) if c.state == running]
                ticket.sla_due_at = min(dues) if dues else None
                messages.append(Message(ticket=ticket, author=contact.user,
                                        author_contact=contact, channel=ticket.channel,
                                        received_at=received,
                                        body="Since the update the terminals show a blank "
                                             "screen.\nSteps: restart, wait, observe."))
                if status != Status.NEW:
                    ticket.updated_at = later if status != Status.ACKNOWLEDGED else acked
                    messages.append(Message(ticket=ticket, author=ticket.assignee,
                                            from_agent=True, channel="web", received_at=acked,
                                            body="Thanks, we can reproduce it and work on it."))
                events.append(TicketEvent(ticket=ticket, actor=contact.user, kind="created",
                                          after=Status.NEW, note=ticket.channel,
                                          created_at=received))
                tickets.append(ticket)
                clocks += [ack, correction]
            with transaction.atomic():
                Ticket.objects.bulk_create(tickets)
                for row in (*messages, *clocks, *events):
                    row.ticket_id = row.ticket.pk
                Message.objects.bulk_create(messages)
                Clock.objects.bulk_create(clocks)
                TicketEvent.objects.bulk_create(events)


@dataclass
class Scenario:
    name: str
    call: Callable[[], Any]
    status: int
    rows: Callable[[Any], int] = lambda response: 0


@dataclass
class Result:
    times: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    rows: int = 0


def html_rows(response: Any) -> int:
    return int(response.content.count(b'<span class="ref">'))


def timeline_rows(response: Any) -> int:
    content = response.content
    return int(content.count(b'<li class="msg') + content.count(b'<li class="event"'))


def scenarios(people: dict[str, Any], reference: str) -> list[Scenario]:
    from django.test import Client
    from rest_framework.authtoken.models import Token

    def client(name: str, api: bool = False) -> Client:
        if api:
            key = Token.objects.get_or_create(user=people[name])[0].key
            return Client(headers={"authorization": f"Token {key}"})
        browser = Client()
        browser.force_login(people[name])
        return browser

    anna, maya, klaus = client("anna"), client("maya"), client("klaus")
    anna_api, maya_api = client("anna", api=True), client("maya", api=True)
    klaus_api = client("klaus", api=True)
    form = {"subject": "Printer offline", "severity": "minor", "description": "It is off."}
    return [
        Scenario("queue /desk/ (agent, 1 desk)", lambda: anna.get("/desk/"), 200, html_rows),
        Scenario("queue /desk/ (manager, all)", lambda: maya.get("/desk/"), 200, html_rows),
        Scenario("ticket page (agent)", lambda: anna.get(f"/tickets/{reference}/"), 200,
                 timeline_rows),
        Scenario("customer list (org admin)", lambda: klaus.get("/tickets/"), 200, html_rows),
        Scenario("API list (agent, token)", lambda: anna_api.get("/api/tickets/"), 200,
                 lambda r: len(r.json()["results"])),
        Scenario("API list (manager, token)", lambda: maya_api.get("/api/tickets/"), 200,
                 lambda r: len(r.json()["results"])),
        Scenario("API detail (agent, token)", lambda: anna_api.get(f"/api/tickets/{reference}/"),
                 200, lambda r: len(r.json()["clocks"])),
        Scenario("create: form POST", lambda: klaus.post("/tickets/new/", form), 302),
        Scenario("create: API POST (token)", lambda: klaus_api.post(
            "/api/tickets/", form, content_type="application/json"), 201),
    ]


def measure(scenario: Scenario, runs: int, timed: bool) -> Result:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def call() -> Any:
        response = scenario.call()
        if response.status_code != scenario.status:
            sys.exit(f"{scenario.name}: HTTP {response.status_code}\n{response.content[:2000]!r}")
        return response

    call()  # warm-up: URL resolver, templates, content types
    result = Result()
    for _ in range(runs):
        if timed:
            start = time.perf_counter()
            call()
            result.times.append((time.perf_counter() - start) * 1000)
        with CaptureQueriesContext(connection) as captured:
            result.rows = scenario.rows(call())
        result.queries.append(len(captured.captured_queries))
    return result


def on_top(people: dict[str, Any], step: int, reference: str | None = None) -> str:
    """Write through the real services on top of the bulk rows; returns the tracked ticket."""
    from sla.models import Clock
    from tickets import services
    from tickets.models import Channel, Ticket

    klaus, anna = people["klaus"], people["anna"]
    if reference is None:
        ticket = services.ticket_create(
            requester=klaus.contact, subject="Kiosk terminals show a blank screen",
            description="14 of our 20 terminals show a blank screen.", severity="blocking",
            channel=Channel.WEB, actor=klaus)
    else:
        ticket = Ticket.objects.get(pk=Ticket.id_from_reference(reference))
        services.ticket_reply(ticket=ticket, author=klaus, body=f"Still broken (step {step}).")
    services.ticket_reply(ticket=ticket, author=anna, body="We are on it.", internal=step == 3)
    for severity in ("blocking", "major", "minor"):
        extra = services.ticket_create(requester=klaus.contact, subject="Service check",
                                       description="Created by the bench.", severity=severity,
                                       channel=Channel.API, actor=klaus)
        clocks = Clock.objects.filter(ticket=extra, state=Clock.State.RUNNING).count()
        extra.refresh_from_db()
        if clocks != 2 or extra.sla_due_at is None:
            sys.exit(f"services.ticket_create on top of the bulk rows: {clocks} clocks")
    return ticket.reference


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--database-url", help="postgres://… (default: var/bench-queue.sqlite3)")
    args = parser.parse_args()
    # This file is named queue.py: its folder on sys.path would hide the standard library's.
    here = Path(__file__).resolve().parent
    sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != here)]
    use_database(args.database_url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from tickets.models import Ticket

    if connection.introspection.table_names():
        sys.exit("The database is not empty; give an empty one (or a name containing 'bench').")
    call_command("migrate", verbosity=0)
    print("\n".join(machine_facts()))
    seeder, steps = Seeder(), sorted({min(30, args.tickets), min(1_000, args.tickets),
                                      args.tickets})
    seeder.setup()
    counts: dict[int, dict[str, Result]] = {}
    reference: str | None = None
    for step, total in enumerate(steps, 1):
        started = time.perf_counter()
        seeder.seed(total - seeder.seeded)
        seeded = time.perf_counter() - started
        reference = on_top(seeder.people, step, reference)
        size = Ticket.objects.count()
        last = total == steps[-1]
        print(f"\nstep {step}: {total:,} bulk tickets in {seeded:.1f} s, {size:,} in the"
              f" database; {'timing ' + str(args.runs) + ' runs' if last else 'counting'}")
        counts[size] = {s.name: measure(s, args.runs if last else 3, last)
                        for s in scenarios(seeder.people, reference)}
    final = counts[max(counts)]
    print(f"\n{'scenario':32} {'median ms':>10} {'p95 ms':>8} {'queries':>8}  constant")
    failed = False
    for name, result in final.items():
        ordered = sorted(result.times)
        p95 = ordered[max(0, -(-len(ordered) * 95 // 100) - 1)]
        constant = len(set(result.queries)) == 1
        failed |= not constant
        queries = "/".join(map(str, sorted(set(result.queries))))
        print(f"{name:32} {statistics.median(ordered):10.1f} {p95:8.1f} {queries:>8}"
              f"  {'yes' if constant else 'NO'}")
    sizes = sorted(counts)
    print(f"\nqueries (rows shown) by tickets in the database\n{'scenario':32}"
          + "".join(f" {size:>14,}" for size in sizes))
    for name in final:
        seen = set().union(*(counts[size][name].queries for size in sizes))
        failed |= len(seen) > 1
        print(f"{name:32}" + "".join(
            f" {counts[size][name].queries[-1]:>6} ({counts[size][name].rows:>4})"
            for size in sizes) + ("" if len(seen) == 1 else "  GROWS"))
    queue = max(statistics.median(final[n].times) for n in final if n.startswith("queue"))
    verdict = "met" if queue <= TARGET_MS else "MISSED"
    failed |= queue > TARGET_MS
    print(f"\nqueue target ≤ {TARGET_MS:.1f} ms (django-helpdesk {HELPDESK_LIST_MS:.0f} ms / 15):"
          f" slowest queue median {queue:.1f} ms,"
          f" {HELPDESK_LIST_MS / queue:.0f}× faster: {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
