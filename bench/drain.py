"""How fast real Celery workers drain a backlog of SLA clocks that cross a threshold at once.

    .venv/bin/python bench/drain.py [--due 10000] [--open 20000] [--workers 2] [--concurrency 1]
        [--threshold warning|breach] [--sweep-every 60] [--timeout 1800] [--database-url URL]

Seeds `--open` open tickets as bench/seeding.py makes them (the real `standard` policy,
calendars, desks and people), received in the last half hour: no threshold is near. One UPDATE
then makes a running clock of each of the first `--due` tickets cross a threshold at the same
instant: its warning (`warning`), or its due instant (`breach`: clocks warned already; a
blocking ticket's breach is mailed at once). A private redis-server is the broker; `--workers`
real worker processes (`celery -A config worker`, prefork, `--concurrency` children each) share
the database. This process calls sla_clock_sweep_task as beat would: at once, every
`--sweep-every` seconds while the backlog drains, and once more after.

A clock is done when its escalation_level reached the level crossed (claimed in the transaction
that writes its history and notifications). Prints the machine facts and load average; per
sweep, the tasks and clocks it published, how many an earlier sweep had queued already, and how
long its clocks took; clocks escalated per second, overall and per 10-s window (from the
instants in the history); the batches' results in the workers' logs; duplicates (a clock and
level twice in the history) and overtaken warnings (OVERTAKEN notes).

Its own database, never var/pacte.sqlite3: var/bench-drain.sqlite3, recreated on each run, or a
PostgreSQL database whose name contains 'bench', dropped and created again (bench/benchdb.py).
Mail goes to files (config.settings.test, PACTE_TEST_EMAIL_DIR); the workers' logs are kept in
var/bench-drain-worker-N.log. Exits 1 when a clock was escalated twice, or when some were not
escalated within `--timeout` seconds.
"""
# ruff: noqa: E402  (the project's modules are imported once Django is set up, below)

from __future__ import annotations

import argparse
import ast
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT, HERE = Path(__file__).resolve().parents[1], Path(__file__).resolve().parent
# The project's root first, and not this folder: scripts import `bench.…` and the project.
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != HERE)]

from bench.benchdb import bench_file, machine_facts, private_redis, use_database

SQLITE_FILE = bench_file("bench-drain.sqlite3")

RECENT = timedelta(minutes=30)  # tickets arrive within it: every threshold is hours away
WINDOW = 10  # seconds per line of the rate table
POLL = 0.25  # seconds between two counts of the clocks done
RESULT = re.compile(r"\.(\w+)\[[0-9a-f-]+\] succeeded in ([0-9.e-]+)s: (.*)$")

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--due", type=int, default=10_000, help="clocks crossing at once")
parser.add_argument("--open", type=int, default=20_000, help="open tickets seeded")
parser.add_argument("--workers", type=int, default=2, help="Celery worker processes")
parser.add_argument("--concurrency", type=int, default=1, help="prefork children per worker")
parser.add_argument("--threshold", choices=["warning", "breach"], default="warning")
parser.add_argument("--sweep-every", type=float, default=60.0, help="seconds, as beat")
parser.add_argument("--timeout", type=float, default=1800.0, help="seconds to drain")
parser.add_argument("--database-url", help="postgres://… (default: var/bench-drain.sqlite3)")
ARGS = parser.parse_args()
use_database(ARGS.database_url, SQLITE_FILE)
with socket.socket() as _sock:
    _sock.bind(("127.0.0.1", 0))
    REDIS_PORT = int(_sock.getsockname()[1])
os.environ.update(REDIS_URL=f"redis://127.0.0.1:{REDIS_PORT}/0", PACTE_TEST_CELERY_EAGER="0")
warnings.filterwarnings("ignore", message="No directory at")  # whitenoise, without collectstatic

import django

django.setup()

import redis
from celery.signals import before_task_publish
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Count, Value
from django.db.models.functions import Concat
from django.utils import timezone

from bench.seeding import Seeder
from sla.clocks.escalation import OVERTAKEN
from sla.models import Clock, EscalationLevel
from sla.tasks import sla_clock_sweep_task
from tickets.models import Ticket, TicketEvent, User

ESCALATE_TASK = "sla.tasks.sla_clocks_escalate_task"


def load() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def group_cpu(groups: list[int]) -> float:
    """User and system CPU seconds of the live processes of these process groups."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) in groups:
                ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


@contextmanager
def celery_workers(workdir: Path, mail_dir: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    """ARGS.workers worker processes on the bench database and broker, each in a session of
    its own (its prefork children with it); ready when the block begins, stopped warm after."""
    env = {**os.environ, "PACTE_TEST_EMAIL_DIR": str(mail_dir), "PYTHONUNBUFFERED": "1"}
    celery = str(Path(sys.executable).parent / "celery")
    processes = []
    for number in range(1, ARGS.workers + 1):
        argv = [celery, "-A", "config", "worker", "-n", f"drain{number}@%h", "-l", "INFO", "-P"]
        argv += ["prefork", "-c", str(ARGS.concurrency), "--without-mingle", "--without-gossip"]
        with (workdir / f"worker-{number}.log").open("ab") as log:
            process = subprocess.Popen(
                argv, cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True
            )
        processes.append(process)
    try:
        deadline = time.monotonic() + 120
        for number, process in enumerate(processes, 1):
            path = workdir / f"worker-{number}.log"
            while " ready." not in path.read_text(errors="replace"):
                if process.poll() is not None or time.monotonic() > deadline:
                    sys.exit(f"worker {number} did not start:\n{path.read_text()[-3000:]}")
                time.sleep(0.1)
        yield processes
    finally:
        for process in processes:
            with suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGTERM)  # warm shutdown: the tasks in hand end
        for process in processes:
            with suppress(subprocess.TimeoutExpired):
                process.wait(60)
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # whatever is left of the group


def seed() -> tuple[int, dict[tuple[int, str], int]]:
    """ARGS.open open tickets received within RECENT, shaped by bench/seeding.py; returns the
    running clocks and, by (ticket, metric), the first running clock of the first ARGS.due
    tickets that have one."""
    Seeder().seed(ARGS.open, days=RECENT / timedelta(days=1))
    staff = User.objects.exclude(role=User.Role.CUSTOMER)  # seeded without an address
    staff.update(email=Concat("username", Value("@pacte.example")))
    if connection.vendor == "postgresql":  # as autovacuum would after such an insert
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    running = Clock.objects.filter(state=Clock.State.RUNNING)
    chosen: dict[tuple[int, str], int] = {}
    last = 0  # the ticket of the clock chosen last: one clock a ticket
    ordered = running.order_by("ticket_id", "metric").values_list("pk", "ticket_id", "metric")
    for pk, ticket_id, metric in ordered:
        if len(chosen) == ARGS.due:
            break
        if ticket_id != last:
            chosen[(ticket_id, metric)], last = pk, ticket_id
    if len(chosen) < ARGS.due:
        sys.exit(f"only {len(chosen):,} tickets have a running clock: seed more with --open")
    return running.count(), chosen


@dataclass(frozen=True)
class Crossing:
    """The threshold the chosen clocks cross at `at`: the field holding it, the level reached."""

    at: datetime
    field: str
    level: EscalationLevel

    @classmethod
    def make(cls, clock_ids: list[int]) -> Crossing:
        """One UPDATE: the chosen clocks cross their warning, or their due instant, now."""
        at = timezone.now().replace(microsecond=0) - timedelta(seconds=1)
        changes: dict[str, object] = {"warn_at": at}
        if ARGS.threshold == "warning":
            crossing = cls(at, "warn_at", EscalationLevel.WARNED)
        else:
            crossing = cls(at, "due_at", EscalationLevel.BREACHED)
            changes = {"warn_at": at - timedelta(hours=1), "due_at": at}
            changes["escalation_level"] = EscalationLevel.WARNED  # warned in time, earlier
        with transaction.atomic():  # in chunks only to stay under SQLite's bound parameters
            for first in range(0, len(clock_ids), 20_000):
                Clock.objects.filter(pk__in=clock_ids[first : first + 20_000]).update(**changes)
        return crossing

    def clocks(self) -> Any:  # a QuerySet of the chosen clocks: no other has this instant
        return Clock.objects.filter(**{self.field: self.at})

    def done(self) -> int:
        return int(self.clocks().filter(escalation_level__gte=self.level).count())


@dataclass
class Sweeps:
    """sla_clock_sweep_task() called in this process, as beat would, and what each published."""

    began: float = 0.0
    rows: list[tuple[str, float, float, int, int, int, int]] = field(default_factory=list)
    queued: set[int] = field(default_factory=set)  # every clock a sweep published
    published: list[set[int]] = field(default_factory=list)  # by each sweep, in order
    tasks: list[list[int]] = field(default_factory=list)  # of the sweep under way

    def __post_init__(self) -> None:
        before_task_publish.connect(self.on_publish, weak=False)

    def on_publish(self, sender: str | None = None, body: Any = None, **_: Any) -> None:
        if sender == ESCALATE_TASK:  # body: (args, kwargs, embed), protocol 2
            self.tasks.append([int(i) for i in body[0][0]])

    def run(self, name: str) -> int:
        """One sweep: its time, what it returned, the tasks and clocks it published, and the
        clocks among them that an earlier sweep had published already."""
        self.tasks, at = [], time.monotonic() - self.began
        started = time.perf_counter()
        returned = sla_clock_sweep_task()
        ms = (time.perf_counter() - started) * 1000
        ids = [clock_id for task in self.tasks for clock_id in task]
        again = len(set(ids) & self.queued)
        self.queued.update(ids)
        self.published.append(set(ids))
        self.rows.append((name, at, ms, returned, len(self.tasks), len(ids), again))
        return len(self.tasks)


def drain(crossing: Crossing, sweeps: Sweeps, broker: redis.Redis) -> tuple[int, list[float]]:
    """Sweep at once and every ARGS.sweep_every seconds until every chosen clock is done or the
    timeout; then wait for the queue to empty and sweep once more. Returns how many were done
    (all, or as many as at the timeout), and the 1-minute load average at the end of each
    WINDOW."""
    sweeps.began = last = time.monotonic()
    sweeps.run("1")
    loads: list[float] = []
    done = 0
    while done < ARGS.due:
        elapsed = time.monotonic() - sweeps.began
        if elapsed > ARGS.timeout:
            return done, loads
        if elapsed >= (len(loads) + 1) * WINDOW:
            loads.append(os.getloadavg()[0])
        if time.monotonic() - last >= ARGS.sweep_every:
            last = time.monotonic()
            sweeps.run(str(len(sweeps.rows) + 1))
        time.sleep(POLL)
        done = crossing.done()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (
        crossing.clocks().filter(dispatched_at__isnull=False).exists()
        or broker.llen("celery")
        or broker.hlen("unacked")
    ):  # the last batches clear their clocks' dispatched_at; mail tasks are taken
        time.sleep(POLL)
    sweeps.run("after")
    return done, loads


@dataclass(frozen=True)
class History:
    """The escalations the tickets' history holds, read once the backlog drained."""

    instants: list[datetime]  # of each level fired on a chosen clock
    last: dict[int, datetime]  # the latest of them by clock id
    duplicates: int  # (ticket, metric, level) recorded more than once
    overtaken: int  # OVERTAKEN notes
    others: int  # levels fired on clocks that were not chosen

    @classmethod
    def read(cls, chosen: dict[tuple[int, str], int]) -> History:
        escalations = TicketEvent.objects.filter(kind=TicketEvent.Kind.ESCALATION)
        fired = escalations.exclude(note=OVERTAKEN)
        rows = list(fired.values_list("ticket_id", "field", "created_at"))
        duplicates = (
            fired.values("ticket_id", "field", "after")
            .annotate(times=Count("id"))
            .filter(times__gt=1)
            .count()
        )
        last: dict[int, datetime] = {}
        for ticket, metric, at in rows:
            if (clock_id := chosen.get((ticket, metric))) is not None:
                last[clock_id] = max(at, last.get(clock_id, at))
        return cls(
            instants=[at for ticket, metric, at in rows if (ticket, metric) in chosen],
            last=last,
            duplicates=duplicates,
            overtaken=escalations.filter(note=OVERTAKEN).count(),
            others=sum((ticket, metric) not in chosen for ticket, metric, _ in rows),
        )


def worker_results(workdir: Path) -> tuple[Counter[str], list[float], Counter[str]]:
    """From the workers' logs: the escalation batches' counts summed, each batch's seconds, and
    the other lines worth a look (mails sent, warnings, errors, locks)."""
    counts: Counter[str] = Counter()
    seconds: list[float] = []
    other: Counter[str] = Counter()
    for log in sorted(workdir.glob("worker-*.log")):
        for line in log.read_text(errors="replace").splitlines():
            if found := RESULT.search(line):
                task, runtime, value = found.groups()
                if task == "sla_clocks_escalate_task":
                    counts.update(ast.literal_eval(value))
                    seconds.append(float(runtime))
                elif task == "notifications_deliver_task":
                    other["mail tasks"] += 1
                    other["mails"] += int(value)
            other["overtaken lines"] += "overtaken by their breach" in line
            other["tracebacks"] += line.startswith("Traceback")
            other["database is locked"] += "database is locked" in line
            other["ERROR lines"] += "ERROR" in line
    return counts, seconds, other


def rate_lines(
    instants: list[datetime], start: datetime, loads: list[float]
) -> tuple[float, list[str]]:
    """Seconds from the first sweep to the last escalation, and a line per WINDOW seconds with
    the load average at its end."""
    offsets = sorted((at - start).total_seconds() for at in instants)
    total = offsets[-1] if offsets else 0.0
    windows = Counter(int(max(offset, 0) // WINDOW) for offset in offsets)
    lines = []
    for w in range(int(total // WINDOW) + 1):
        span = min(WINDOW, total - w * WINDOW) or 1.0  # the last window ends with the drain
        at_end = f"{loads[w]:9.2f}" if w < len(loads) else ""
        lines.append(f"{w * WINDOW:>4}-{w * WINDOW + span:<6.1f} {windows[w]:>9,} "
                     f"{windows[w] / span:>8.1f}{at_end}")  # fmt: skip
    return total, lines


def print_sweeps(sweeps: Sweeps, history: History, start: datetime) -> None:
    """A line per sweep; for those that published, the seconds until the last of their clocks
    was escalated and the rate meanwhile (the workers busy, not waiting for the next sweep)."""
    print(f"\n{'sweep':6} {'at s':>6} {'ms':>8} {'returned':>9} {'tasks':>6} {'clocks':>7} "
          f"{'queued before':>13} {'escalated in s':>14} {'per s':>7}")  # fmt: skip
    busy, busy_clocks = 0.0, 0
    for (name, at, ms, returned, tasks, clocks, again), ids in zip(
        sweeps.rows, sweeps.published, strict=True
    ):
        line = f"{name:6} {at:6.1f} {ms:8.1f} {returned:9,} {tasks:6,} {clocks:7,} {again:13,}"
        instants = [history.last[i] for i in ids if i in history.last]
        if instants:
            took = (max(instants) - start).total_seconds() - at
            busy, busy_clocks = busy + took, busy_clocks + len(instants)
            line += f" {took:14.1f} {len(instants) / took:7.1f}"
        print(line)
    if busy:
        print(f"busy      {busy_clocks:,} clocks in {busy:.1f} s from their sweeps: "
              f"{busy_clocks / busy:.1f} clocks/s while the workers had them")  # fmt: skip


def report(
    reached: int,
    chosen: dict[tuple[int, str], int],
    crossing: Crossing,
    sweeps: Sweeps,
    start: datetime,
    loads: list[float],
    workdir: Path,
) -> bool:
    """Print the drain's figures; True when every clock was escalated once and only once."""
    history = History.read(chosen)
    total, lines = rate_lines(history.instants, start, loads)
    print_sweeps(sweeps, history, start)
    done = crossing.done()  # at the level crossed, in the database
    print(f"\n{'window s':11} {'escalated':>9} {'per s':>8} {'load 1 min':>10}")
    print("\n".join(lines))
    counts, seconds, other = worker_results(workdir)
    per_second = done / total if total else 0.0
    drained = reached == ARGS.due
    print(
        f"\ndrained   {done:,} of {ARGS.due:,} clocks escalated in {total:.1f} s after the first "
        f"sweep began: {per_second:.1f} clocks/s overall"
        if drained
        else f"\nTIMEOUT   {reached:,} of {ARGS.due:,} clocks escalated within {ARGS.timeout:g} s "
        f"({done:,} once the workers stopped)"
    )
    if seconds:
        print(
            f"workers   {len(seconds):,} escalation tasks: escalated {counts['escalated']:,}, "
            f"overtaken {counts['overtaken']:,}, failed {counts['failed']:,}; a task took "
            f"median {statistics.median(seconds):.2f} s, max {max(seconds):.2f} s "
            f"({statistics.median(seconds) / settings.PACTE_ESCALATION_BATCH * 1000:.1f} ms "
            "a clock)"
        )
    print(
        f"logs      {other['mail tasks']:,} mail tasks sent {other['mails']:,} mails; "
        f"{other['overtaken lines']} overtaken warnings, {other['tracebacks']} tracebacks, "
        f"{other['ERROR lines']} ERROR lines, {other['database is locked']} 'database is locked'"
    )
    print(
        f"history   duplicates {history.duplicates}, overtaken warnings {history.overtaken} "
        f"({OVERTAKEN} notes), levels fired on other clocks {history.others}"
    )
    ok = drained and history.duplicates == 0 and done == ARGS.due
    print(
        f"drain result: {reached:,} of {ARGS.due:,} escalated, {history.duplicates} duplicates, "
        f"{per_second:.1f} clocks/s — {'ok' if ok else 'FAILED'}"
    )
    return ok


def main() -> int:
    if connection.introspection.table_names():
        sys.exit("The database is not empty: give an empty one, or one whose name has 'bench'.")
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    running, chosen = seed()
    seeded = time.perf_counter() - started
    with tempfile.TemporaryDirectory(prefix="pacte-drain-") as tmp:
        workdir = Path(tmp)
        (mail_dir := workdir / "mail").mkdir()
        with private_redis(REDIS_PORT, workdir) as broker:
            facts = machine_facts()
            broker_line = f"broker    redis-server {broker.info()['redis_version']} (private)"
            print("\n".join([*facts[:-1], broker_line, facts[-1]]))
            print(
                f"seeded    {Ticket.objects.count():,} open tickets, {running:,} running "
                f"clocks in {seeded:.0f} s"
            )
            began = time.monotonic()
            with celery_workers(workdir, mail_dir) as processes:
                groups = [process.pid for process in processes]
                cpu = group_cpu(groups)
                print(
                    f"workers   {ARGS.workers} × celery worker (prefork, concurrency "
                    f"{ARGS.concurrency}) ready in {time.monotonic() - began:.1f} s; batch "
                    f"{settings.PACTE_ESCALATION_BATCH} clocks a task, lease "
                    f"{settings.PACTE_ESCALATION_LEASE_SECONDS:.0f} s, sweep every "
                    f"{ARGS.sweep_every:g} s"
                )
                crossing = Crossing.make(sorted(chosen.values()))
                metrics = ", ".join(f"{n:,} {m}" for m, n in Counter(m for _, m in chosen).items())
                print(
                    f"crossing  {ARGS.due:,} clocks ({metrics}) cross "
                    f"their {ARGS.threshold} ({crossing.field}) at {crossing.at:%H:%M:%S %Z}"
                    f"\nload      {load()} (before the first sweep)"
                )
                start, sweeps = timezone.now(), Sweeps()
                reached, loads = drain(crossing, sweeps, broker)
                cpu = group_cpu(groups) - cpu
            print(f"load      {load()} (after); workers' CPU {cpu:.1f} s")
            ok = report(reached, chosen, crossing, sweeps, start, loads, workdir)
            for log in sorted(workdir.glob("worker-*.log")):
                shutil.copy(log, SQLITE_FILE.parent / f"bench-drain-{log.name}")
            print(f"worker logs kept in {SQLITE_FILE.parent / 'bench-drain-worker-*.log'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
