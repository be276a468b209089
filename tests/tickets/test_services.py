"""Ticket services: workflow, history and the clocks they drive (SLA-RULES.md)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from sla.models import Clock
from tests.factories import World, client_for, open_ticket
from tickets import services
from tickets.exceptions import InvalidTransition, PermissionDeniedError, TicketError
from tickets.models import Status, TicketEvent

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")
MONDAY_9 = datetime(2026, 6, 8, 9, 0, tzinfo=BERLIN)  # europe desk opens


def clock(ticket: object, metric: str) -> Clock:
    return Clock.objects.get(ticket=ticket, metric=metric)


def test_first_public_agent_reply_acknowledges_internal_note_does_not(world: World) -> None:
    with time_machine.travel(MONDAY_9, tick=False):
        ticket = open_ticket(world.alice, severity="blocking")
    with time_machine.travel(MONDAY_9 + timedelta(hours=1), tick=False):
        services.ticket_reply(ticket=ticket, author=world.agent_eu, body="note", internal=True)
        assert clock(ticket, "acknowledgement").state == "running"
        services.ticket_reply(ticket=ticket, author=world.agent_eu, body="On it.")
    ack = clock(ticket, "acknowledgement")
    ticket.refresh_from_db()
    assert ticket.status == Status.ACKNOWLEDGED
    assert (ack.state, ack.outcome, ack.stopped_at) == (
        "stopped",
        "met",
        MONDAY_9 + timedelta(hours=1),
    )
    assert clock(ticket, "correction").state == "running"


def test_late_acknowledgement_is_breached(world: World) -> None:
    with time_machine.travel(MONDAY_9, tick=False):
        ticket = open_ticket(world.alice, severity="blocking")  # due 14:00
    with time_machine.travel(MONDAY_9 + timedelta(hours=6), tick=False):
        services.ticket_acknowledge(ticket=ticket, actor=world.agent_eu)
    ack = clock(ticket, "acknowledgement")
    assert ack.outcome == "breached"
    assert ack.breached_at == datetime(2026, 6, 8, 14, 0, tzinfo=BERLIN)


def test_waiting_pauses_and_customer_answer_resumes_correction(world: World) -> None:
    with time_machine.travel(MONDAY_9, tick=False):
        ticket = open_ticket(world.alice, severity="major")  # correction: 2 business days
    assert clock(ticket, "correction").due_at == datetime(2026, 6, 10, 9, 0, tzinfo=BERLIN)
    with time_machine.travel(MONDAY_9 + timedelta(hours=2), tick=False):
        services.ticket_reply(ticket=ticket, author=world.agent_eu, body="Which browser?")
        services.ticket_change_status(
            ticket=ticket, actor=world.agent_eu, status=Status.WAITING_ON_CUSTOMER
        )
    paused = clock(ticket, "correction")
    assert paused.state == "paused" and paused.due_at is None
    ticket.refresh_from_db()
    assert ticket.sla_due_at is None  # nothing running: the queue shows it as paused
    # The customer answers a day later: the 24 h of waiting do not count.
    with time_machine.travel(MONDAY_9 + timedelta(hours=26), tick=False):
        services.ticket_reply(
            ticket=ticket,
            author=world.alice.user,  # type: ignore[arg-type]
            body="Firefox 140.",
        )
    resumed = clock(ticket, "correction")
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS
    assert resumed.state == "running"
    assert resumed.due_at == datetime(2026, 6, 11, 9, 0, tzinfo=BERLIN)
    assert ticket.sla_due_at == resumed.due_at


def test_resolve_stops_and_reopen_resumes_keeping_elapsed(world: World) -> None:
    with time_machine.travel(MONDAY_9, tick=False):
        ticket = open_ticket(world.alice, severity="blocking")
        services.ticket_acknowledge(ticket=ticket, actor=world.agent_eu)
    with time_machine.travel(MONDAY_9 + timedelta(hours=4), tick=False):
        services.ticket_change_status(ticket=ticket, actor=world.agent_eu, status=Status.RESOLVED)
    stopped = clock(ticket, "correction")
    assert (stopped.state, stopped.outcome) == ("stopped", "met")
    with time_machine.travel(MONDAY_9 + timedelta(hours=8), tick=False):
        services.ticket_reply(
            ticket=ticket,
            author=world.alice.user,  # type: ignore[arg-type]
            body="It is back.",
        )
    ticket.refresh_from_db()
    reopened = clock(ticket, "correction")
    assert ticket.status == Status.IN_PROGRESS
    assert (reopened.state, reopened.cycle, reopened.outcome) == ("running", 2, "")
    # 4 h counted before; 20 h left from 17:00 Monday -> Tuesday 13:00.
    assert reopened.due_at == datetime(2026, 6, 9, 13, 0, tzinfo=BERLIN)


def test_reclassify_recomputes_from_the_original_start(world: World) -> None:
    with time_machine.travel(MONDAY_9, tick=False):
        ticket = open_ticket(world.alice, severity="minor")  # ack: 2 business days
    with time_machine.travel(MONDAY_9 + timedelta(hours=3), tick=False):
        services.ticket_reclassify(
            ticket=ticket, actor=world.agent_eu, severity="blocking", reason="Production is down"
        )
    ack = clock(ticket, "acknowledgement")
    assert ack.due_at == datetime(2026, 6, 8, 14, 0, tzinfo=BERLIN)  # 5 business hours
    assert ack.breached_at is None
    # Upgraded at 15:00: the 5 business hours ended at 14:00, breached as of then.
    with time_machine.travel(MONDAY_9, tick=False):
        late = open_ticket(world.alice, severity="minor")
    with time_machine.travel(MONDAY_9 + timedelta(hours=6), tick=False):
        services.ticket_reclassify(
            ticket=late, actor=world.agent_eu, severity="blocking", reason="Worse than thought"
        )
    assert clock(late, "acknowledgement").breached_at == datetime(2026, 6, 8, 14, 0, tzinfo=BERLIN)
    event = TicketEvent.objects.get(ticket=late, kind=TicketEvent.Kind.SEVERITY)
    assert (event.before, event.after, event.note) == ("minor", "blocking", "Worse than thought")
    # The reason is quoted in the reader's language: no French quotes in English.
    page = client_for(world.agent_eu).get(f"/tickets/{late.reference}/").content.decode()
    assert "<q>Worse than thought</q>" in page and "«" not in page


def test_reclassify_needs_a_reason_and_a_known_severity(world: World) -> None:
    ticket = open_ticket(world.alice)
    with pytest.raises(TicketError):
        services.ticket_reclassify(
            ticket=ticket, actor=world.agent_eu, severity="minor", reason="  "
        )
    with pytest.raises(TicketError):
        services.ticket_reclassify(
            ticket=ticket, actor=world.agent_eu, severity="urgent", reason="x"
        )
    with pytest.raises(TicketError, match="already Major"):  # a change that changes nothing
        services.ticket_reclassify(
            ticket=ticket, actor=world.agent_eu, severity="major", reason="Checked"
        )
    ticket.refresh_from_db()
    assert ticket.severity == "major"
    assert not ticket.events.filter(kind=TicketEvent.Kind.SEVERITY).exists()


def test_every_change_lands_in_the_history(world: World) -> None:
    ticket = open_ticket(world.alice)
    services.ticket_assign(ticket=ticket, actor=world.agent_eu, assignee=world.agent_eu)
    services.ticket_acknowledge(ticket=ticket, actor=world.agent_eu)
    services.ticket_change_status(ticket=ticket, actor=world.agent_eu, status=Status.IN_PROGRESS)
    kinds = list(TicketEvent.objects.filter(ticket=ticket).values_list("kind", "before", "after"))
    assert ("created", "", "new") in kinds
    assert ("assignee", "", "agent_eu") in kinds
    assert ("status", "new", "acknowledged") in kinds
    assert ("status", "acknowledged", "in_progress") in kinds
    assert ("clock", "running", "stopped:met") in kinds


def test_history_is_append_only(world: World) -> None:
    ticket = open_ticket(world.alice)
    event = TicketEvent.objects.filter(ticket=ticket).first()
    assert event is not None
    event.note = "rewritten"
    with pytest.raises(ValueError, match="append-only"):
        event.save()


def test_assign_only_to_agents_of_the_desk(world: World) -> None:
    ticket = open_ticket(world.alice)
    with pytest.raises(TicketError):
        services.ticket_assign(ticket=ticket, actor=world.agent_eu, assignee=world.agent_fr)
    with pytest.raises(PermissionDeniedError):
        services.ticket_assign(ticket=ticket, actor=world.agent_fr, assignee=world.agent_fr)


def test_illegal_transitions_are_refused(world: World) -> None:
    ticket = open_ticket(world.alice)
    with pytest.raises(InvalidTransition):
        services.ticket_change_status(
            ticket=ticket, actor=world.agent_eu, status=Status.WAITING_ON_CUSTOMER
        )
    services.ticket_change_status(ticket=ticket, actor=world.agent_eu, status=Status.CLOSED)
    with pytest.raises(InvalidTransition):
        services.ticket_change_status(ticket=ticket, actor=world.agent_eu, status=Status.RESOLVED)


def test_ticket_goes_to_the_desk_of_the_contact_region(world: World) -> None:
    from sla.models import Calendar
    from tests.factories import DeskFactory

    america = DeskFactory(
        slug="na", region="north-america", calendar=Calendar.objects.get(slug="north-america")
    )
    world.acme.desks.add(america)
    world.alice.region = "north-america"
    world.alice.save()
    assert open_ticket(world.alice).desk == america
    assert open_ticket(world.amir).desk == world.europe


def test_only_qualifying_events_acknowledge_and_the_qualifier_is_recorded(world: World) -> None:
    auto = open_ticket(world.alice)
    services.ticket_reply(
        ticket=auto, author=world.agent_eu, body="We got your request.", automatic=True
    )
    services.ticket_reply(ticket=auto, author=world.agent_eu, body="note", internal=True)
    auto.refresh_from_db()
    assert auto.status == Status.NEW
    assert clock(auto, "acknowledgement").state == "running"

    phoned = open_ticket(world.alice)
    call = services.ticket_reply(
        ticket=phoned,
        author=world.agent_eu,
        channel="phone",
        body="Called Alice: restart fixed it for now.",
    )
    ack = clock(phoned, "acknowledgement")
    assert (ack.state, ack.stop_reason, ack.stop_message) == ("stopped", "phone_call", call)

    replied = open_ticket(world.alice)
    reply = services.ticket_reply(
        ticket=replied, author=world.agent_eu, channel="email", body="Looking into it."
    )
    ack = clock(replied, "acknowledgement")
    assert (ack.stop_reason, ack.stop_message) == ("public_reply", reply)
    stop = TicketEvent.objects.get(ticket=replied, kind="clock", after="stopped:met")
    assert stop.note == "public_reply"

    explicit = open_ticket(world.alice)
    services.ticket_acknowledge(ticket=explicit, actor=world.agent_eu)
    ack = clock(explicit, "acknowledgement")
    assert (ack.stop_reason, ack.stop_message) == ("acknowledge", None)


def test_customer_reply_never_acknowledges(world: World) -> None:
    ticket = open_ticket(world.alice)
    services.ticket_reply(
        ticket=ticket,
        author=world.alice.user,  # type: ignore[arg-type]
        body="Any news?",
    )
    assert clock(ticket, "acknowledgement").state == "running"


def test_stop_and_reopen_clear_the_qualifier(world: World) -> None:
    ticket = open_ticket(world.alice)
    services.ticket_acknowledge(ticket=ticket, actor=world.agent_eu)
    services.ticket_change_status(ticket=ticket, actor=world.agent_eu, status=Status.RESOLVED)
    assert clock(ticket, "correction").stop_reason == "resolved"
    services.ticket_change_status(ticket=ticket, actor=world.agent_eu, status=Status.IN_PROGRESS)
    reopened = clock(ticket, "correction")
    assert (reopened.state, reopened.stop_reason, reopened.cycle) == ("running", "", 2)


def test_reclassify_to_another_clock_kind_restarts_from_arrival(world: World) -> None:
    from sla.defaults import SINCE_ALWAYS
    from sla.models import SlaPolicy
    from sla.policies import policy_version_add

    policy = SlaPolicy.objects.create(slug="wall", name="Wall for blocking")
    policy_version_add(
        policy=policy,
        effective_at=SINCE_ALWAYS,
        targets=[
            ("blocking", "acknowledgement", 2, "wall"),
            ("blocking", "correction", 24, "wall"),
            ("minor", "acknowledgement", 2, "business_days"),
            ("minor", "correction", 5, "business_days"),
        ],
    )
    world.acme.sla_policy = policy
    world.acme.save()
    saturday = datetime(2026, 6, 6, 10, 0, tzinfo=BERLIN)
    with time_machine.travel(saturday, tick=False):
        ticket = open_ticket(world.alice, severity="minor")
    assert clock(ticket, "acknowledgement").started_at == MONDAY_9  # business days: next opening
    with time_machine.travel(saturday + timedelta(hours=1), tick=False):
        services.ticket_reclassify(
            ticket=ticket, actor=world.agent_eu, severity="blocking", reason="Kiosks down"
        )
    ack = clock(ticket, "acknowledgement")
    assert ack.kind == "wall" and ack.started_at == saturday  # wall time counts from arrival
    assert ack.due_at == saturday + timedelta(hours=2)
