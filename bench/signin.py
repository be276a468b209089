"""Server time and SQL queries of signing in and of the pages people open right after, at
10,000 tickets: the figures the accounts work must leave unchanged.

    .venv/bin/python bench/signin.py [--tickets 10000] [--runs 40] [--database-url URL]

It runs on any checkout of Pacte (before and after the accounts issue alike: it finds the
sign-in form's field and passes the staff's second factor only where there is one), so that
two checkouts can be run in turn on one machine and their figures compared pair by pair.
Works on its own database (var/bench-signin.sqlite3 by default), never var/pacte.sqlite3.
"""
# ruff: noqa: E402  (the project's modules are imported once Django is set up, below)

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

ROOT, HERE = Path(__file__).resolve().parents[1], Path(__file__).resolve().parent
# The project's root first, and not this folder: scripts import `bench.…` and the project.
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != HERE)]
from bench.benchdb import bench_file, machine_facts, use_database

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--tickets", type=int, default=10_000)
parser.add_argument("--runs", type=int, default=40)
parser.add_argument("--database-url", help="postgres://… (default: var/bench-signin.sqlite3)")
ARGS = parser.parse_args()
use_database(ARGS.database_url, bench_file("bench-signin.sqlite3"))
warnings.filterwarnings("ignore", message="No directory at")  # whitenoise, without collectstatic

import django

django.setup()

from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, setup_test_environment

from bench.seeding import Seeder
from tickets.models import User

PASSWORD = "bench-passphrase-2026"


def staff_session(client: Client, user: User) -> None:
    """Sign a member of staff in as they would be once past their second factor, where the
    checkout asks for one."""
    client.force_login(user)
    try:
        from tests.accounts.second_factor import pass_second_factor
    except ImportError:  # a checkout from before second factors
        return
    pass_second_factor(client, user)


def sign_in_field() -> str:
    page = Client().get("/accounts/login/").content
    return "login" if b'name="login"' in page else "username"


def measure(name: str, call: Callable[[], int], expect: int) -> tuple[str, float, int]:
    def checked() -> None:
        if (status := call()) != expect:
            sys.exit(f"{name}: HTTP {status}, expected {expect}")

    checked()
    times, queries = [], []
    for _ in range(ARGS.runs):
        start = time.perf_counter()
        checked()
        times.append((time.perf_counter() - start) * 1000)
        with CaptureQueriesContext(connection) as captured:
            checked()
        queries.append(len(captured.captured_queries))
    return name, statistics.median(times), max(queries)


def main() -> None:
    setup_test_environment()  # the test client's response context, locmem mail
    call_command("migrate", verbosity=0)
    seeder = Seeder()
    seeder.seed(ARGS.tickets)
    klaus, anna = seeder.people["klaus"], seeder.people["anna"]
    for user in (klaus, anna):  # seeded without a password: a session needs one to hold
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    # Customers signing in one after another, each once (a person has a session or two, not
    # hundreds), each from their own address (a rate limit per address must not turn the
    # measure into one of refusals).
    others = User.objects.filter(role="customer", contact__isnull=False).exclude(pk=klaus.pk)
    customers = list(others[: 2 * ARGS.runs + 2])
    User.objects.filter(pk__in=[u.pk for u in customers]).update(password=klaus.password)
    field = sign_in_field()

    people = iter(enumerate(customers, start=1))

    def sign_in() -> int:
        n, user = next(people)
        client = Client(REMOTE_ADDR=f"10.0.{n // 256}.{n % 256}")
        data = {field: user.username, "password": PASSWORD}
        return client.post("/accounts/login/", data).status_code

    agent, customer = Client(), Client()
    staff_session(agent, anna)
    customer.force_login(klaus)
    results = [
        measure("sign-in, customer (password)", sign_in, 302),
        measure("agent queue", lambda: agent.get("/desk/").status_code, 200),
        measure("customer's tickets", lambda: customer.get("/tickets/").status_code, 200),
    ]
    for line in machine_facts():
        print(line)
    print(f"tickets   {ARGS.tickets}, {ARGS.runs} runs each, password hasher: test settings'")
    print(f"{'operation':<32}{'median ms':>10}{'queries':>9}")
    for name, median, queries in results:
        print(f"{name:<32}{median:>10.1f}{queries:>9}")


main()
