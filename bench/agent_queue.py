"""Server time and SQL queries of Pacte's ticket pages and API calls at 100,000 tickets.

    .venv/bin/python bench/agent_queue.py [--tickets 100000] [--runs 30] [--database-url URL]

Works on its own database, never var/pacte.sqlite3; see bench/README.md. Exits 1 if a query
count varies across runs or database sizes. How these pages compare with django-helpdesk is
bench/peer/compare.py's to say, both measured in one run.
"""
# ruff: noqa: E402  (the project's modules are imported once Django is set up, below)

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

ROOT, HERE = Path(__file__).resolve().parents[1], Path(__file__).resolve().parent
# The project's root first, and not this folder: scripts import `bench.…` and the project.
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != HERE)]

from bench.benchdb import bench_file, machine_facts, use_database

SQLITE_FILE = bench_file("bench-queue.sqlite3")

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--tickets", type=int, default=100_000)
parser.add_argument("--runs", type=int, default=30)
parser.add_argument(
    "--steps", help="sizes, each timed: 10000,100000,1000000 (default: 30, 1,000, --tickets)"
)
parser.add_argument("--database-url", help="postgres://… (default: var/bench-queue.sqlite3)")
ARGS = parser.parse_args()
use_database(ARGS.database_url, SQLITE_FILE)
warnings.filterwarnings("ignore", message="No directory at")  # whitenoise, without collectstatic

import django

django.setup()

from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.seeding import Seeder
from tests.accounts.second_factor import pass_second_factor
from tickets import services
from tickets.accounts.tokens import api_token_create
from tickets.models import (
    Channel,
    Severity,
    Ticket,
    User,
)

if TYPE_CHECKING:  # what django.test.Client returns
    from django.test.client import _MonkeyPatchedWSGIResponse as Response


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
        pass_second_factor(client, people[name])  # staff sign in with their second factor
        return client

    def api(name: str) -> Client:
        _token, key = api_token_create(user=people[name], name="bench", days=30, now=timezone.now())
        return Client(headers={"authorization": f"Token {key}"})

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
    every = ARGS.steps is not None  # every step timed, not the last only
    steps = sorted({min(30, ARGS.tickets), min(1_000, ARGS.tickets), ARGS.tickets})
    if every:
        steps = sorted(int(n) for n in ARGS.steps.split(","))
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
        timed = last or every
        found[size] = [s.measure(ARGS.runs if timed else 3, timed=timed) for s in results]
    print(f"\n{f'{size:,} tickets, {ARGS.runs} runs':34} median ms   p95 ms  queries  constant")
    for s in results:
        ordered = sorted(s.times)
        p95 = ordered[-(-len(ordered) * 95 // 100) - 1]  # nearest rank
        constant = "yes" if len(set(s.queries)) == 1 else "NO: " + "/".join(map(str, s.queries))
        median = statistics.median(ordered)
        print(f"{s.name:34} {median:9.1f} {p95:8.1f} {s.queries[-1]:8}  {constant}")
    if every:
        print(f"\n{'median ms at … tickets':34}" + "".join(f"{n:>13,}" for n in found))
        for i, s in enumerate(results):
            medians = [statistics.median(found[size][i].times) for size in found]
            print(f"{s.name:34}" + "".join(f"{m:>13.1f}" for m in medians))
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
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
