"""Escalation: each level once per cycle, to the right people, mailed in their hours."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse

from sla.clocks.escalation import clock_escalate
from sla.clocks.selectors import clocks_to_escalate
from sla.models import Clock, EscalationLevel, Notification
from sla.notifications.delivery import notifications_deliver
from sla.tasks import sla_clock_sweep_task
from tests.factories import UserFactory, World, open_ticket
from tickets import services
from tickets.models import Status, Ticket, User

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")
MONDAY_9 = datetime(2026, 6, 8, 9, 0, tzinfo=BERLIN)


@pytest.fixture
def staff(world: World) -> dict[str, User]:
    lead = UserFactory(username="lead", role=User.Role.AGENT, email="lead@pacte.test")
    world.europe.agents.add(lead)
    world.europe.lead = lead
    world.europe.save()
    head = UserFactory(
        username="head", role=User.Role.MANAGER, head_of_support=True, email="head@pacte.test"
    )
    return {"lead": lead, "head": head, "manager": world.manager}


def ack(ticket: Ticket) -> Clock:
    return Clock.objects.get(ticket=ticket, metric="acknowledgement")


def test_levels_fire_in_order_once_each(world: World, staff: dict[str, User]) -> None:
    with time_machine.travel(MONDAY_9, tick=False):
        ticket = open_ticket(world.alice, severity="blocking")  # ack: 5 business hours
    clock = ack(ticket)
    assert (clock.warn_at, clock.due_at, clock.escalate_at) == (
        MONDAY_9 + timedelta(hours=3, minutes=45),
        MONDAY_9 + timedelta(hours=5),
        MONDAY_9 + timedelta(hours=7, minutes=30),
    )
    assert clock_escalate(clock_id=clock.pk, now=MONDAY_9 + timedelta(hours=3)) is None
    warned = clock_escalate(clock_id=clock.pk, now=MONDAY_9 + timedelta(hours=4))
    assert warned is not None and warned.level == EscalationLevel.WARNED
    assert clock_escalate(clock_id=clock.pk, now=MONDAY_9 + timedelta(hours=4)) is None  # again
    breached = clock_escalate(clock_id=clock.pk, now=MONDAY_9 + timedelta(hours=5))
    assert breached is not None and breached.level == EscalationLevel.BREACHED
    head = clock_escalate(clock_id=clock.pk, now=MONDAY_9 + timedelta(hours=8))
    assert head is not None and head.level == EscalationLevel.HEAD
    clock.refresh_from_db()
    assert clock.breached_at == clock.due_at and clock.escalation_level == EscalationLevel.HEAD
    rows = Notification.objects.filter(clock=clock)
    # Warning: nobody is assigned, so the desk's agents (agent_eu and the lead).
    assert sorted(rows.filter(kind="warning").values_list("recipient__username", flat=True)) == [
        "agent_eu",
        "lead",
    ]
    assert sorted(rows.filter(kind="breach").values_list("recipient__username", flat=True)) == [
        "head",
        "lead",
        "manager",
    ]
    assert list(rows.filter(kind="head").values_list("recipient__username", flat=True)) == ["head"]


def test_warning_goes_to_the_assignee_only(world: World, staff: dict[str, User]) -> None:
    with time_machine.travel(MONDAY_9, tick=False):
        ticket = open_ticket(world.alice, severity="blocking")
        services.ticket_assign(ticket=ticket, actor=world.agent_eu, assignee=world.agent_eu)
    clock_escalate(clock_id=ack(ticket).pk, now=MONDAY_9 + timedelta(hours=4))
    assert list(Notification.objects.values_list("recipient__username", flat=True)) == ["agent_eu"]


def test_a_late_sweep_sends_the_breach_not_a_stale_warning(
    world: World, staff: dict[str, User]
) -> None:
    with time_machine.travel(MONDAY_9, tick=False):
        ticket = open_ticket(world.alice, severity="blocking")
    escalation = clock_escalate(clock_id=ack(ticket).pk, now=MONDAY_9 + timedelta(hours=6))
    assert escalation is not None and escalation.level == EscalationLevel.BREACHED
    assert not Notification.objects.filter(kind="warning").exists()


def test_sweep_finds_only_crossed_unhandled_clocks_and_is_idempotent(
    world: World, staff: dict[str, User]
) -> None:
    with time_machine.travel(MONDAY_9, tick=False):
        crossed = open_ticket(world.alice, severity="blocking")
        open_ticket(world.alice, severity="minor")  # days away
    with time_machine.travel(MONDAY_9 + timedelta(hours=4), tick=False):
        assert clocks_to_escalate(now=MONDAY_9 + timedelta(hours=4)) == [ack(crossed).pk]
        assert sla_clock_sweep_task() == 1  # eager: the per-clock task runs too
        assert sla_clock_sweep_task() == 0
        assert clocks_to_escalate(now=MONDAY_9 + timedelta(hours=4)) == []
    assert Notification.objects.count() == 2


def test_a_new_cycle_can_fire_again(world: World, staff: dict[str, User]) -> None:
    with time_machine.travel(MONDAY_9, tick=False):
        ticket = open_ticket(world.alice, severity="minor")
    clock = Clock.objects.get(ticket=ticket, metric="correction")
    with time_machine.travel(MONDAY_9 + timedelta(days=5), tick=False):
        clock_escalate(clock_id=clock.pk, now=MONDAY_9 + timedelta(days=5))  # warned
        services.ticket_reclassify(
            ticket=ticket, actor=world.agent_eu, severity="blocking", reason="Worse"
        )
    clock.refresh_from_db()
    assert (clock.cycle, clock.escalation_level) == (2, EscalationLevel.NONE)
    again = clock_escalate(clock_id=clock.pk, now=MONDAY_9 + timedelta(days=5))
    assert again is not None and again.level == EscalationLevel.HEAD  # 1 day, long overrun
    assert Notification.objects.filter(clock=clock, kind="warning").count() == 2  # 2 agents


def test_paused_or_stopped_clocks_are_not_escalated(world: World, staff: dict[str, User]) -> None:
    with time_machine.travel(MONDAY_9, tick=False):
        ticket = open_ticket(world.alice, severity="blocking")
        services.ticket_acknowledge(ticket=ticket, actor=world.agent_eu)
    assert clock_escalate(clock_id=ack(ticket).pk, now=MONDAY_9 + timedelta(days=3)) is None
    assert clock_escalate(clock_id=999_999, now=MONDAY_9) is None


def test_acknowledgement_cancels_pending_warnings(world: World, staff: dict[str, User]) -> None:
    with time_machine.travel(MONDAY_9, tick=False):
        ticket = open_ticket(world.alice, severity="major")  # ack: 1 business day
    # Warned at 03:00 on Tuesday (75 % of 24 h): outside working hours, the mail waits.
    night = MONDAY_9 + timedelta(hours=18)
    clock_escalate(clock_id=ack(ticket).pk, now=night)
    pending = Notification.objects.filter(kind="warning")
    assert pending.count() == 2
    assert {n.deliver_after for n in pending} == {MONDAY_9 + timedelta(days=1)}  # Tue 09:00
    assert notifications_deliver(now=night) == 0 and mail.outbox == []
    with time_machine.travel(night + timedelta(hours=1), tick=False):
        services.ticket_reply(ticket=ticket, author=world.agent_eu, body="On it")
    assert set(pending.values_list("email", flat=True)) == {"cancelled"}
    assert notifications_deliver(now=MONDAY_9 + timedelta(days=1)) == 0


def test_blocking_breach_is_mailed_at_once_in_the_recipients_language(
    world: World, staff: dict[str, User]
) -> None:
    staff["manager"].language = "fr"
    staff["manager"].email = "maya@pacte.test"
    staff["manager"].save()
    with time_machine.travel(MONDAY_9, tick=False):
        ticket = open_ticket(world.alice, severity="blocking", subject="Site en panne")
    evening = MONDAY_9 + timedelta(hours=12)  # 21:00, outside hours: a blocking breach goes now
    escalation = clock_escalate(clock_id=ack(ticket).pk, now=evening)
    assert escalation is not None and set(escalation.mail_now) == set(escalation.recipients)
    assert notifications_deliver(now=evening) == 3
    french = next(m for m in mail.outbox if m.to == ["maya@pacte.test"])
    assert french.subject == f"[{ticket.reference}] Échéance dépassée : Site en panne"
    assert "Bonjour" in french.body and f"/tickets/{ticket.reference}/" in french.body
    assert "Heures exprimées dans le fuseau horaire Europe/Paris." in french.body
    english = next(m for m in mail.outbox if m.to == ["lead@pacte.test"])
    assert english.subject == f"[{ticket.reference}] Deadline missed: Site en panne"
    assert english.alternatives and "<a href" in str(english.alternatives[0][0])
    assert notifications_deliver(now=evening + timedelta(minutes=1)) == 0  # sent once


def test_a_burst_becomes_one_digest(world: World, staff: dict[str, User]) -> None:
    with time_machine.travel(MONDAY_9, tick=False):
        tickets = [open_ticket(world.alice, severity="blocking", subject=f"T{i}") for i in range(4)]
    for ticket in tickets:
        clock_escalate(clock_id=ack(ticket).pk, now=MONDAY_9 + timedelta(hours=4))
    assert notifications_deliver(now=MONDAY_9 + timedelta(hours=4)) == 2  # agent_eu and lead
    digest = next(m for m in mail.outbox if m.to == [staff["lead"].email])
    assert digest.subject == "Pacte: 4 SLA alerts"
    assert all(t.reference in digest.body for t in tickets)


def test_notifications_page_and_unread_count(world: World, staff: dict[str, User]) -> None:
    with time_machine.travel(MONDAY_9, tick=False):
        ticket = open_ticket(world.alice, severity="blocking")
    clock_escalate(clock_id=ack(ticket).pk, now=MONDAY_9 + timedelta(hours=4))
    client = Client()
    client.force_login(world.agent_eu)
    page = client.get(reverse("notifications")).content.decode()
    assert ticket.reference in page and "Deadline approaching" in page
    assert 'class="count"' in page
    note = Notification.objects.get(recipient=world.agent_eu)
    response = client.post(reverse("notification-open", args=[note.pk]))
    assert response["Location"] == reverse("tickets:detail", args=[ticket.reference])
    note.refresh_from_db()
    assert note.read_at is not None
    assert 'class="count"' not in client.get(reverse("desk:queue")).content.decode()
    other = Client()
    other.force_login(staff["lead"])
    assert other.post(reverse("notification-open", args=[note.pk])).status_code == 404
    customer = Client()
    customer.force_login(world.alice.user)  # type: ignore[arg-type]
    assert customer.get(reverse("notifications")).status_code == 404


def test_breach_raises_the_ticket_to_the_top_of_the_queue(
    world: World, staff: dict[str, User]
) -> None:
    with time_machine.travel(MONDAY_9, tick=False):
        late = open_ticket(world.alice, severity="minor", subject="late one")
    with time_machine.travel(MONDAY_9 + timedelta(days=3), tick=False):
        fresh = open_ticket(world.alice, severity="blocking", subject="fresh blocking")
        sla_clock_sweep_task()
        client = Client()
        client.force_login(world.agent_eu)
        page = client.get(reverse("desk:queue")).content.decode()
    assert ack(late).escalation_level >= EscalationLevel.BREACHED
    assert page.index(late.subject) < page.index(fresh.subject)
    assert "overdue" in page
    assert Status(late.status) == Status.NEW
