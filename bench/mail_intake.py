"""Mail ingested per second: in one process, through the IMAP poller, the LMTP intake and the
MTA pipe command.

    .venv/bin/python bench/mail_intake.py [--messages 1000] [--pipe-jobs 2] [--database-url URL]

Works on its own database (var/bench-email.sqlite3, recreated on each run, or a PostgreSQL
database whose name contains 'bench'). The messages are shaped like the desk's real traffic,
seeded: 55 % new incidents from contacts (a third with a small attachment, a third HTML), 25 %
replies threading into those tickets by In-Reply-To, 10 % from unknown senders (held for
review, one automatic answer per sender a day), 10 % auto-replies (ignored).

- pipe: one `manage.py ingest_email` process per message, as Postfix's pipe transport runs
  it, `--pipe-jobs` at a time (Postfix runs deliveries in parallel); the figure includes
  starting Python and Django, which is most of the cost.
- service: the same messages handed to `mail_receive` in one process: the cost of handling
  itself (parse, route, thread, ticket, clocks, outbox).
- poller: the messages appended to a private Dovecot IMAP server (tests/mailservers.py), then
  `mailbox_poll` until every one is handled and flagged.
- lmtp: `manage.py lmtp_serve` on a loopback port, fed over `--pipe-jobs` connections kept
  open, as Postfix's LMTP client delivers; every reply must be 250.

Each run checks the outcome counts (tickets opened, replies threaded, held, ignored) and
exits 1 when they are wrong.
"""
# ruff: noqa: E402  (the project's modules are imported once Django is set up, below)

from __future__ import annotations

import sys
from pathlib import Path

ROOT, HERE = Path(__file__).resolve().parents[1], Path(__file__).resolve().parent
# The project's root first, and not this folder: scripts import `bench.…` and the project.
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != HERE)]

import argparse
import contextlib
import os
import random
import smtplib
import socket
import subprocess
import threading
import time
import warnings
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from urllib.parse import urlsplit

from bench.benchdb import bench_file, machine_facts, use_database
from bench.peer.mails import incident_body, reply

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--messages", type=int, default=1000)
parser.add_argument("--pipe-jobs", type=int, default=max(1, len(os.sched_getaffinity(0))))
parser.add_argument("--seed", type=int, default=2026)
parser.add_argument("--parts", default="service,poller,lmtp,pipe", help="which to run, in order")
parser.add_argument("--database-url", help="postgres://…bench… (default: SQLite in var/)")
ARGS = parser.parse_args()
BENCH_POSTGRES = ("postgres://", "postgresql://")
if ARGS.database_url and not (
    ARGS.database_url.startswith(BENCH_POSTGRES) and "bench" in urlsplit(ARGS.database_url).path
):
    sys.exit("bench/mail_intake.py recreates its database: give a PostgreSQL URL naming *bench*")
use_database(ARGS.database_url, bench_file("bench-email.sqlite3"))
DATABASE_URL = os.environ["DATABASE_URL"]
os.environ["PACTE_MAIL_DEFAULT_DESK"] = "eu"
warnings.filterwarnings("ignore", message="No directory at")

import django

django.setup()

from django.core.management import call_command
from django.utils import timezone

from sla.defaults import seed_defaults
from sla.models import Calendar, SlaPolicy
from tickets.channels.email.imap import mailbox_poll
from tickets.channels.email.ingest import mail_receive
from tickets.models import (
    Contact,
    Desk,
    InboundMail,
    Mailbox,
    MailThreadId,
    Organization,
    Region,
    Ticket,
)

DESK_ADDRESS = "support-eu@bench.test"
CONTACTS = 200
REPLY_DISTANCE = 16  # messages between an incident and a reply to it


def setup_world() -> None:
    call_command("migrate", verbosity=0)
    from django.apps import apps

    seed_defaults(apps)
    desk = Desk.objects.create(
        slug="eu",
        name="Europe",
        region=Region.EUROPE,
        calendar=Calendar.objects.get(slug="europe"),
        email=DESK_ADDRESS,
    )
    policy = SlaPolicy.objects.get(slug="standard")
    for n in range(10):
        org = Organization.objects.create(
            name=f"Customer {n}", slug=f"customer-{n}", sla_policy=policy
        )
        org.desks.add(desk)
        Contact.objects.bulk_create(
            Contact(organization=org, name=f"Contact {n}-{i}", email=f"c{i}@customer{n}.test")
            for i in range(CONTACTS // 10)
        )


def messages(count: int, seed: int, tag: str) -> tuple[list[bytes], Counter[str]]:
    """The traffic mix of the docstring; `tag` keeps each run's Message-IDs apart."""
    rng = random.Random(seed)
    contacts = [f"c{i}@customer{n}.test" for n in range(10) for i in range(CONTACTS // 10)]
    opened: list[tuple[str, str]] = []  # (Message-ID, sender) of the new incidents so far
    out: list[bytes] = []
    expected: Counter[str] = Counter()
    for n in range(count):
        roll = rng.random()
        message = EmailMessage()
        message["To"] = DESK_ADDRESS
        message["Date"] = format_datetime(timezone.now())
        message["Message-ID"] = make_msgid(idstring=f"{tag}.{n}", domain="bench.test")
        if roll < 0.25 and len(opened) > REPLY_DISTANCE:
            # A reply to an incident opened a while before (not in the same parallel wave).
            reply(message, *rng.choice(opened[:-REPLY_DISTANCE]))
            expected["appended"] += 1
        elif roll < 0.35:
            message["From"] = f"stranger{rng.randrange(50)}@elsewhere.test"
            message["Subject"] = "Question about your product"
            message.set_content("Hello, who can help me?")
            expected["review"] += 1
        elif roll < 0.45:
            message["From"] = rng.choice(contacts)
            message["Subject"] = "Automatic reply: out of office"
            message["Auto-Submitted"] = "auto-replied"
            message.set_content("I am away until Monday.")
            expected["ignored"] += 1
        else:
            sender = rng.choice(contacts)
            message["From"] = sender
            message["Subject"] = f"Kiosk {n} shows an error ({rng.choice(['blocking', 'major'])})"
            incident_body(message, rng)
            opened.append((message["Message-ID"], sender))
            expected["ticketed"] += 1
        out.append(bytes(message))
    return out, expected


def outcome(since: int) -> Counter[str]:
    return Counter(
        InboundMail.objects.filter(pk__gt=since).values_list("status", flat=True).iterator()
    )


def report(
    name: str, count: int, seconds: float, got: Counter[str], expected: Counter[str]
) -> bool:
    ok = got == expected
    print(
        f"{name:<8} {count:>6} messages in {seconds:8.2f} s  {count / seconds:8.1f} msg/s  "
        f"{seconds / count * 1000:8.2f} ms/msg   {dict(sorted(got.items()))}"
        + ("" if ok else f"   EXPECTED {dict(sorted(expected.items()))}")
    )
    return ok


def last_id() -> int:
    return InboundMail.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def run_service(count: int) -> bool:
    raws, expected = messages(count, ARGS.seed, "service")
    since = last_id()
    started = time.perf_counter()
    for raw in raws:
        mail_receive(raw=raw, source=InboundMail.Source.PIPE, recipient=DESK_ADDRESS)
    return report("service", count, time.perf_counter() - started, outcome(since), expected)


def run_pipe(count: int) -> bool:
    raws, expected = messages(count, ARGS.seed + 1, "pipe")
    since = last_id()
    env = {**os.environ, "DATABASE_URL": DATABASE_URL}
    command = [sys.executable, "manage.py", "ingest_email", "--recipient", DESK_ADDRESS]
    # Waves of `--pipe-jobs` parallel deliveries; a reply comes REPLY_DISTANCE messages
    # after its incident at least, so its ticket exists by then.
    failures: Counter[int] = Counter()

    def deliver(raw: bytes) -> None:
        for _attempt in range(5):  # the MTA's retry on 75
            done = subprocess.run(command, input=raw, cwd=ROOT, env=env, capture_output=True)
            if done.returncode != 75:
                break
            time.sleep(0.5)
        failures[done.returncode] += done.returncode != 0

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=ARGS.pipe_jobs) as pool:
        for index in range(0, len(raws), ARGS.pipe_jobs):
            list(pool.map(deliver, raws[index : index + ARGS.pipe_jobs]))
    seconds = time.perf_counter() - started
    if sum(failures.values()):
        print(f"pipe: non-zero exits {dict(failures)}")
    return report(f"pipe x{ARGS.pipe_jobs}", count, seconds, outcome(since), expected)


def run_lmtp(count: int) -> bool:
    """Through `manage.py lmtp_serve`, over `--pipe-jobs` connections kept open, as Postfix's
    LMTP client delivers: the figure includes the protocol and the server's threads."""
    raws, expected = messages(count, ARGS.seed + 3, "lmtp")
    raws = [raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n") for raw in raws]
    since = last_id()
    port = free_port()
    env = {**os.environ, "DATABASE_URL": DATABASE_URL}
    server = subprocess.Popen(
        [sys.executable, "manage.py", "lmtp_serve", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    codes: Counter[int] = Counter()
    pending = iter(enumerate(raws))
    lock = threading.Lock()

    def connection() -> None:
        with smtplib.LMTP("127.0.0.1", port) as client:
            client.ehlo()
            while True:
                with lock:
                    item = next(pending, None)
                if item is None:
                    return
                client.mail("sender@bench.test")
                client.rcpt(DESK_ADDRESS)
                code, _ = client.data(item[1])
                codes[code] += 1

    try:
        for _ in range(300):
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            time.sleep(0.1)
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=ARGS.pipe_jobs) as pool:
            list(pool.map(lambda _: connection(), range(ARGS.pipe_jobs)))
        seconds = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=15)
    if set(codes) != {250}:
        print(f"lmtp: replies {dict(codes)}")
    name = f"lmtp x{ARGS.pipe_jobs}"
    return report(name, count, seconds, outcome(since), expected) and set(codes) == {250}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_poller(count: int) -> bool:
    sys.path.insert(0, str(ROOT))
    from tests.mailservers import DovecotServer  # a bench helper shared with the tests

    raws, expected = messages(count, ARGS.seed + 2, "imap")
    user, password = "support-eu@bench.test", "bench-secret"
    with DovecotServer({user: password}) as server:
        for raw in raws:
            server.append(user, raw)
        desk = Desk.objects.get(slug="eu")
        mailbox = Mailbox.objects.create(
            desk=desk,
            host=server.host,
            port=server.port,
            security=Mailbox.Security.NONE,
            username=user,
            password=password,
        )
        since = last_id()
        started = time.perf_counter()
        polls = 0
        while True:
            result = mailbox_poll(mailbox_id=mailbox.pk)
            polls += 1
            if result.error:
                print(f"poller error: {result.error}")
                return False
            if result.fetched == 0:
                break
        seconds = time.perf_counter() - started
        flagged = sum("$PacteHandled" in flags for _, flags, _ in server.list_messages(user))
    print(f"poller: {polls} polls, {flagged} of {count} messages flagged handled")
    return report("poller", count, seconds, outcome(since), expected) and flagged == count


def main() -> int:
    print("\n".join(machine_facts()))
    setup_world()
    runs = {"service": run_service, "poller": run_poller, "pipe": run_pipe, "lmtp": run_lmtp}
    ok = True
    for part in ARGS.parts.split(","):
        ok = runs[part.strip()](ARGS.messages) and ok
    print(f"tickets   {Ticket.objects.count()}, thread ids {MailThreadId.objects.count()}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
