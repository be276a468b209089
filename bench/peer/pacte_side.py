"""Pacte's side of bench/peer/compare.py: seeds Pacte's bench database and times each
operation in process (Django's test client: routing, middleware, SQL, templates; no network).

    .venv/bin/python bench/peer/pacte_side.py --shapes FILE [--database-url URL]

Started by compare.py, which speaks to it in bench/peer/protocol.py's lines.
"""
# ruff: noqa: E402  (the project's modules are imported once Django is set up, below)

from __future__ import annotations

import argparse
import csv
import sys
import warnings
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path[:] = [
    str(ROOT),
    *(p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent),
]

from bench.benchdb import machine_facts, use_database

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--shapes", type=Path, required=True, help="where to write the seeded tickets")
parser.add_argument("--database-url", help="postgres://…bench… (default: VAR/pacte.sqlite3)")
parser.add_argument("--var", type=Path, default=ROOT / "var" / "peer", help="its files")
ARGS = parser.parse_args()
use_database(ARGS.database_url, ARGS.var / "pacte.sqlite3")
warnings.filterwarnings("ignore", message="No directory at")  # whitenoise, without collectstatic

import django

django.setup()

from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from bench.peer.mails import DESK_ADDRESS, ORGANIZATIONS, contacts
from bench.peer.protocol import Side, status
from bench.seeding import Seeder
from sla.clocks.escalation import clocks_dispatch, crossed_level
from sla.models import Clock, EscalationLevel, Metric
from sla.tasks import sla_clocks_escalate_task
from tests.accounts.second_factor import pass_second_factor
from tickets.accounts.tokens import api_token_create
from tickets.channels.email.ingest import mail_receive
from tickets.models import (
    OPEN_STATUSES,
    Contact,
    Desk,
    InboundMail,
    Organization,
    Status,
    Ticket,
)

side = Side("pacte")
world: dict[str, Any] = {}
NEW = {"subject": "Printer offline", "severity": "minor", "description": "It is off."}


def shapes_write(path: Path) -> None:
    """The seeded tickets, for the peer to seed the same ones."""
    rows = Ticket.objects.order_by("pk").values_list(
        "received_at", "status", "desk__slug", "subject", "severity", "assignee_id"
    )
    replied = set(
        Ticket.objects.filter(messages__from_agent=True).values_list("pk", flat=True).distinct()
    )
    with path.open("w", newline="") as out:
        writer = csv.writer(out, delimiter="\t")
        for pk, (received, state, desk, subject, severity, assignee) in zip(
            Ticket.objects.order_by("pk").values_list("pk", flat=True), rows, strict=True
        ):
            closed = {Status.RESOLVED: "resolved", Status.CLOSED: "closed"}.get(state, "open")
            writer.writerow(
                [
                    received.isoformat(),
                    closed,
                    desk,
                    subject,
                    severity,
                    int(assignee is not None),
                    int(pk in replied),
                ]
            )


def crossed_settle() -> int:
    """Clocks the bulk rows left crossed count as escalated already, as a sweep would have."""
    now, settled = timezone.now(), 0
    for clock in Clock.objects.filter(state=Clock.State.RUNNING).iterator():
        level = crossed_level(clock, now)
        if level > clock.escalation_level:
            Clock.objects.filter(pk=clock.pk).update(escalation_level=level)
            settled += 1
    return settled


def seed(total: int) -> int:
    call_command("migrate", verbosity=0)
    seeder = Seeder()
    seeder.seed(total)
    europe = Desk.objects.get(slug="europe")
    Desk.objects.filter(pk=europe.pk).update(email=DESK_ADDRESS)
    senders = contacts()
    for n in range(ORGANIZATIONS):
        org = Organization.objects.create(
            name=f"Mail customer {n}",
            slug=f"mail-{n}",
            sla_policy=seeder.people["klaus"].contact.organization.sla_policy,
        )
        org.desks.add(europe)
        Contact.objects.bulk_create(
            Contact(organization=org, name=address.split("@")[0], email=address)
            for address in senders
            if address.endswith(f"@customer{n}.test")
        )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    crossed_settle()
    people = seeder.people
    anna, klaus = Client(), Client()
    for client, name in ((anna, "anna"), (klaus, "klaus")):
        client.force_login(people[name])
    pass_second_factor(anna, people["anna"])  # staff sign in with their second factor
    now = timezone.now()
    world["anna"], world["klaus"] = anna, klaus
    for name in ("anna", "klaus"):
        _token, key = api_token_create(user=people[name], name="bench", days=30, now=now)
        world[f"{name}_api"] = Client(headers={"authorization": f"Token {key}"})
    ticket = Ticket.objects.filter(desk=europe, status__in=OPEN_STATUSES).latest("received_at")
    world["reference"] = ticket.reference
    shapes_write(ARGS.shapes)
    return Ticket.objects.count()


side.seed = seed


@side.operation("queue")
def queue(_arg: object) -> str:
    return status(world["anna"].get("/desk/"), 200)


@side.operation("ticket_page")
def ticket_page(_arg: object) -> str:
    return status(world["anna"].get(f"/tickets/{world['reference']}/"), 200)


@side.operation("ticket_api")
def ticket_api(_arg: object) -> str:
    return status(world["anna_api"].get(f"/api/tickets/{world['reference']}/"), 200)


@side.operation("create_form")
def create_form(_arg: object) -> str:
    return status(world["klaus"].post("/tickets/new/", NEW), 302)


@side.operation("create_api")
def create_api(_arg: object) -> str:
    response = world["klaus_api"].post("/api/tickets/", NEW, content_type="application/json")
    return status(response, 201)


def mail_read(path: str) -> bytes:
    return Path(path).read_bytes()


@side.operation("ingest", prepare=mail_read)
def ingest(raw: bytes) -> str:
    received = mail_receive(raw=raw, source=InboundMail.Source.PIPE, recipient=DESK_ADDRESS)
    state = (
        InboundMail.objects.filter(pk=received.inbound.pk).values_list("status", flat=True).get()
    )
    if state not in ("ticketed", "appended"):
        raise AssertionError(f"mail {state}, not made a ticket or a reply")
    return state


def due_make(batch: int) -> list[int]:
    """`batch` running correction clocks of open tickets, warned, due a minute ago."""
    now = timezone.now()
    ids = list(
        Clock.objects.filter(
            state=Clock.State.RUNNING,
            metric=Metric.CORRECTION,
            escalation_level=EscalationLevel.NONE,
            ticket__status__in=OPEN_STATUSES,
            due_at__gt=now,
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:batch]
    )
    Clock.objects.filter(pk__in=ids).update(
        warn_at=now - timedelta(hours=2),
        due_at=now - timedelta(minutes=1),
        escalation_level=EscalationLevel.WARNED,
    )
    return ids


@side.operation("escalate", prepare=due_make)
def escalate(due: list[int]) -> str:
    """The sweep's work and its worker's, in one process: find, claim, escalate."""
    ids = clocks_dispatch(now=timezone.now())
    counts = sla_clocks_escalate_task(ids)
    if set(due) - set(ids) or counts["escalated"] < len(due):
        raise AssertionError(f"{len(due)} due, {len(ids)} found, {counts}")
    return f"{counts['escalated']} escalated"


if __name__ == "__main__":
    side.serve({"system": "Pacte", "facts": "\n".join(machine_facts())})
