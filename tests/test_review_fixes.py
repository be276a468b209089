"""Regressions found in review: each test is a scenario that used to go wrong."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from sla.clocks.escalation import clock_escalate
from sla.models import Calendar, Clock, EscalationLevel, Notification
from sla.notifications.delivery import notifications_deliver
from tests.factories import ContactFactory, DeskFactory, UserFactory, World, open_ticket
from tickets import services
from tickets.models import Attachment, Status, Ticket, User

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")
MONDAY_9 = datetime(2026, 6, 8, 9, 0, tzinfo=BERLIN)


def test_a_subject_on_several_lines_becomes_one_and_alerts_are_mailed(world: World) -> None:
    world.europe.lead = UserFactory(username="lead", role=User.Role.AGENT, time_zone="Nowhere/X")
    world.europe.save()
    with time_machine.travel(MONDAY_9, tick=False):
        ticket = open_ticket(world.alice, severity="blocking", subject="Down\r\nBcc: x@evil.test")
    assert ticket.subject == "Down Bcc: x@evil.test"
    clock = Clock.objects.get(ticket=ticket, metric="acknowledgement")
    clock_escalate(clock_id=clock.pk, now=MONDAY_9 + timedelta(hours=6))
    assert notifications_deliver(now=MONDAY_9 + timedelta(hours=6)) == 2  # lead and manager
    assert all("\n" not in m.subject for m in mail.outbox)


def test_pause_before_the_clock_starts_does_not_move_the_deadline_earlier(world: World) -> None:
    saturday = datetime(2026, 6, 6, 10, 0, tzinfo=BERLIN)
    with time_machine.travel(saturday, tick=False):
        ticket = open_ticket(world.alice, severity="minor")
        services.ticket_acknowledge(ticket=ticket, actor=world.agent_eu)
    with time_machine.travel(saturday + timedelta(hours=1), tick=False):
        services.ticket_change_status(
            ticket=ticket, actor=world.agent_eu, status=Status.WAITING_ON_CUSTOMER
        )
    with time_machine.travel(saturday + timedelta(hours=2), tick=False):
        services.ticket_reply(
            ticket=ticket,
            author=world.alice.user,  # type: ignore[arg-type]
            body="Here you go",
        )
    correction = Clock.objects.get(ticket=ticket, metric="correction")
    assert correction.due_at == MONDAY_9 + timedelta(days=7)  # Monday 09:00 + 5 business days


def test_reopening_a_breached_ticket_does_not_alert_again(world: World) -> None:
    with time_machine.travel(MONDAY_9, tick=False):
        ticket = open_ticket(world.alice, severity="blocking")
        services.ticket_acknowledge(ticket=ticket, actor=world.agent_eu)
    correction = Clock.objects.get(ticket=ticket, metric="correction")
    late = MONDAY_9 + timedelta(days=3)
    clock_escalate(clock_id=correction.pk, now=late)
    alerts = Notification.objects.count()
    with time_machine.travel(late, tick=False):
        services.ticket_change_status(ticket=ticket, actor=world.agent_eu, status=Status.RESOLVED)
        services.ticket_change_status(
            ticket=ticket, actor=world.agent_eu, status=Status.IN_PROGRESS
        )
    correction.refresh_from_db()
    assert correction.cycle == 2 and correction.escalation_level == EscalationLevel.HEAD
    assert clock_escalate(clock_id=correction.pk, now=late + timedelta(minutes=1)) is None
    assert Notification.objects.count() == alerts


def test_reclassifying_a_stopped_clock_keeps_a_promise(world: World) -> None:
    with time_machine.travel(MONDAY_9, tick=False):
        ticket = open_ticket(world.alice, severity="major")
        services.ticket_acknowledge(ticket=ticket, actor=world.agent_eu)
        services.ticket_reclassify(
            ticket=ticket, actor=world.agent_eu, severity="blocking", reason="Worse"
        )
    ack = Clock.objects.get(ticket=ticket, metric="acknowledgement")
    assert ack.due_at == MONDAY_9 + timedelta(hours=5) and ack.outcome == "met"


def test_agent_cannot_open_a_ticket_for_a_contact_of_another_desk(world: World) -> None:
    api = APIClient()
    api.force_authenticate(world.agent_eu)
    response = api.post(
        "/api/tickets/",
        {
            "subject": "x",
            "description": "y",
            "severity": "minor",
            "requester": world.bob.email,
            "attachments": [SimpleUploadedFile("a.txt", b"data")],
        },
        format="multipart",
    )
    assert response.status_code == 400 and "requester" in response.json()
    assert Ticket.objects.count() == 0 and Attachment.objects.count() == 0
    stored = [p for p in Path(default_storage.location).rglob("*") if p.is_file()]  # type: ignore[attr-defined]
    assert stored == []


def test_a_desk_without_hours_is_a_clear_error_not_a_500(world: World) -> None:
    world.europe.calendar = Calendar.objects.create(slug="never", name="Never", time_zone="UTC")
    world.europe.save()
    client = Client()
    client.force_login(world.alice.user)  # type: ignore[arg-type]
    response = client.post(
        reverse("tickets:create"), {"subject": "s", "severity": "minor", "description": "d"}
    )
    assert response.status_code == 400 and "no support hours" in response.content.decode()
    assert Ticket.objects.count() == 0


def test_contact_addresses_are_unique_whatever_the_case(world: World) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        ContactFactory(organization=world.acme, email=world.alice.email.upper())


def test_customers_do_not_see_escalations(world: World) -> None:
    with time_machine.travel(MONDAY_9, tick=False):
        ticket = open_ticket(world.alice, severity="blocking")
    clock = Clock.objects.get(ticket=ticket, metric="acknowledgement")
    clock_escalate(clock_id=clock.pk, now=MONDAY_9 + timedelta(hours=6))
    client = Client()
    client.force_login(world.alice.user)  # type: ignore[arg-type]
    page = client.get(reverse("tickets:detail", args=[ticket.reference])).content.decode()
    assert "escalated" not in page


def test_customers_cannot_probe_usernames_through_assign(world: World) -> None:
    ticket = open_ticket(world.alice)
    api = APIClient()
    api.force_authenticate(world.alice.user)
    url = f"/api/tickets/{ticket.reference}/assign/"
    known = api.post(url, {"assignee": "agent_eu"}, format="json")
    unknown = api.post(url, {"assignee": "nobody-here"}, format="json")
    assert known.status_code == unknown.status_code == 403


def test_agent_on_two_desks_is_mailed_in_the_hours_of_the_first(world: World) -> None:
    america = DeskFactory(
        slug="na", region="north-america", calendar=Calendar.objects.get(slug="north-america")
    )
    america.agents.add(world.agent_eu)
    with time_machine.travel(MONDAY_9, tick=False):
        ticket = open_ticket(world.alice, severity="major")
        services.ticket_assign(ticket=ticket, actor=world.agent_eu, assignee=world.agent_eu)
    clock = Clock.objects.get(ticket=ticket, metric="acknowledgement")
    night = MONDAY_9 + timedelta(hours=18)  # Tuesday 03:00 in Berlin
    clock_escalate(clock_id=clock.pk, now=night)
    note = Notification.objects.get()
    assert note.deliver_after == MONDAY_9 + timedelta(days=1)  # Berlin 09:00, the europe desk
