"""The peer's side of bench/peer/compare.py: django-helpdesk, in its own virtual environment,
seeded with the tickets Pacte's side wrote, timing each operation in process as Pacte's side
does (Django's test client; no network).

    var/peer/venv/bin/python bench/peer/peer_side.py --shapes FILE [--database-url URL]

Imports django-helpdesk, never Pacte: run by compare.py with the peer's interpreter.
"""

from __future__ import annotations

import argparse
import csv
import logging
import os
import platform
import random
import sys
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--shapes", type=Path, required=True, help="the tickets to seed")
parser.add_argument("--database-url", help="postgres://…bench… (default: VAR/peer.sqlite3)")
parser.add_argument("--var", type=Path, default=ROOT / "var" / "peer", help="its files")
ARGS = parser.parse_args()
if ARGS.database_url is None:
    sqlite = ARGS.var / "peer.sqlite3"
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{sqlite}{suffix}").unlink(missing_ok=True)
    ARGS.database_url = f"sqlite:///{sqlite}"
os.environ["PEER_DATABASE_URL"] = ARGS.database_url
os.environ.setdefault("PEER_MEDIA_ROOT", str(ARGS.var / "media"))
os.environ["DJANGO_SETTINGS_MODULE"] = "peer_site.settings"

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402
from helpdesk.email import extract_email_metadata  # noqa: E402
from helpdesk.models import FollowUp, Queue, Ticket  # noqa: E402
from helpdesk.query import query_to_base64  # noqa: E402
from mails import DESK_ADDRESS  # noqa: E402
from protocol import Side, status  # noqa: E402

side = Side("django-helpdesk")
world: dict[str, object] = {}
BATCH = 5_000
PRIORITY = {"blocking": 2, "major": 3, "minor": 4}  # 1, critical, is never escalated further
STATUS = {
    "open": Ticket.OPEN_STATUS,
    "resolved": Ticket.RESOLVED_STATUS,
    "closed": Ticket.CLOSED_STATUS,
}
LIST_QUERY = {  # the ticket list's query, filtered to one queue (helpdesk.views.staff.ticket_list)
    "filtering": {"status__in": [1, 2], "queue__id__in": []},
    "sorting": "created",
    "search_string": "",
    "sortreverse": False,
}


def seed(_total: object) -> int:
    call_command("migrate", verbosity=0)
    rng, now = random.Random(2024), timezone.now()
    queues = {
        slug: Queue.objects.create(
            title=slug.replace("-", " ").title(),
            slug=slug,
            email_address=DESK_ADDRESS if slug == "europe" else f"{slug}@bench.test",
            allow_public_submission=True,
            escalate_days=1,
        )
        for slug in ("europe", "north-america", "france")
    }
    agents = [
        User.objects.create_user(f"agent-{n}" if n else "anna", is_staff=True) for n in range(18)
    ]
    world["europe"] = queues["europe"]
    with ARGS.shapes.open(newline="") as shapes:
        rows = list(csv.reader(shapes, delimiter="\t"))
    for first in range(0, len(rows), BATCH):
        tickets, replied = [], []
        for received, state, desk, subject, severity, assigned, reply in rows[
            first : first + BATCH
        ]:
            created = datetime.fromisoformat(received)
            tickets.append(
                Ticket(
                    title=subject,
                    queue=queues[desk],
                    created=created,
                    modified=created,
                    submitter_email=f"customer{rng.randrange(1000)}@customer.example",
                    assigned_to=rng.choice(agents) if assigned == "1" else None,
                    status=STATUS[state],
                    description="Since the update, our kiosks show a blank screen.",
                    priority=PRIORITY[severity],
                    last_escalation=now,  # no ticket is due until one is made due
                )
            )
            replied.append(reply == "1")
        with transaction.atomic():
            Ticket.objects.bulk_create(tickets)
            FollowUp.objects.bulk_create(
                followup
                for ticket, answered in zip(tickets, replied, strict=True)
                for followup in (
                    FollowUp(
                        ticket=ticket,
                        title="Ticket Opened",
                        date=ticket.created,
                        comment=ticket.description,
                        public=True,
                    ),
                    *(
                        [
                            FollowUp(
                                ticket=ticket,
                                title="Comment",
                                date=ticket.created + timedelta(hours=2),
                                comment="We reproduce it.",
                                public=True,
                                user=ticket.assigned_to,
                            )
                        ]
                        if answered
                        else []
                    ),
                )
            )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    anna, anonymous = Client(), Client()
    anna.force_login(agents[0])
    world["anna"], world["anonymous"] = anna, anonymous
    world["ticket"] = (
        Ticket.objects.filter(queue=queues["europe"], status=Ticket.OPEN_STATUS)
        .latest("created")
        .pk
    )
    # As Pacte's agent of one desk sees that desk's tickets: the list of the Europe queue.
    LIST_QUERY["filtering"]["queue__id__in"] = [queues["europe"].pk]
    world["list_page"] = f"/tickets/?queue={queues['europe'].pk}&status=1&status=2"
    world["list_data"] = f"/datatables_ticket_list/{query_to_base64(LIST_QUERY)}"
    return Ticket.objects.count()


side.seed = seed
NEW = {
    "title": "Printer offline",
    "body": "It is off.",
    "priority": 4,
    "submitter_email": "klaus@customer.example",
}


@side.operation("queue")
def queue(_arg: object) -> str:
    """The staff's open-ticket list of one queue: its page, then the rows its table asks for
    (50)."""
    page = status(world["anna"].get(world["list_page"]), 200)
    rows = world["anna"].get(world["list_data"], {"draw": 1, "start": 0, "length": 50})
    return f"{page} + {status(rows, 200)}"


@side.operation("ticket_page")
def ticket_page(_arg: object) -> str:
    return status(world["anna"].get(f"/tickets/{world['ticket']}/"), 200)


@side.operation("ticket_api")
def ticket_api(_arg: object) -> str:
    return status(world["anna"].get(f"/api/tickets/{world['ticket']}/"), 200)


@side.operation("create_form")
def create_form(_arg: object) -> str:
    """The public form, as a customer fills it in."""
    return status(world["anonymous"].post("/", {**NEW, "queue": world["europe"].pk}), 302)


@side.operation("create_api")
def create_api(_arg: object) -> str:
    """Its API creates tickets for staff only."""
    data = {
        "queue": world["europe"].pk,
        "title": NEW["title"],
        "description": NEW["body"],
        "submitter_email": NEW["submitter_email"],
        "priority": NEW["priority"],
    }
    return status(world["anna"].post("/api/tickets/", data, content_type="application/json"), 201)


def mail_read(path: str) -> str:
    """As its mailbox pollers hand a message over: decoded to text."""
    return Path(path).read_bytes().decode("utf-8", errors="replace")


@side.operation("ingest", prepare=mail_read)
def ingest(message: str) -> str:
    ticket = extract_email_metadata(
        message=message, queue=world["europe"], logger=logging.getLogger("peer")
    )
    if ticket is None:
        raise AssertionError("the message made no ticket and no follow-up")
    return f"ticket {ticket.pk}"


def due_make(batch: int) -> list[int]:
    """`batch` open tickets last escalated three days ago."""
    ids = list(
        Ticket.objects.filter(queue=world["europe"], status=Ticket.OPEN_STATUS, priority__gt=2)
        .order_by("pk")
        .values_list("pk", flat=True)[:batch]
    )
    Ticket.objects.filter(pk__in=ids).update(last_escalation=timezone.now() - timedelta(days=3))
    return ids


@side.operation("escalate", prepare=due_make)
def escalate(due: list[int]) -> str:
    """Its escalation command, as cron runs it: finds the due tickets and escalates each."""
    before = FollowUp.objects.filter(ticket_id__in=due, title="Ticket Escalated").count()
    call_command("escalate_tickets")
    after = FollowUp.objects.filter(ticket_id__in=due, title="Ticket Escalated").count()
    if after - before != len(due):
        raise AssertionError(f"{len(due)} due, {after - before} escalated")
    return f"{after - before} escalated"


if __name__ == "__main__":
    import django as dj

    with connection.cursor() as cursor:
        sqlite = connection.vendor == "sqlite"
        cursor.execute("SELECT 'SQLite ' || sqlite_version()" if sqlite else "SELECT version()")
        database = cursor.fetchone()[0]
    facts = f"python {platform.python_version()}, Django {dj.get_version()}, database {database}"
    side.serve({"system": "django-helpdesk", "facts": facts})
