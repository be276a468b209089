"""The sweep never floods its queue: a crossed clock is queued once while its task waits (again
only when the lease is over: a task lost with its worker), in batches of clocks; a clock another
transaction holds is skipped (SKIP LOCKED, PostgreSQL); and a warning the breach overtook
while workers lagged is told, on the ticket and in the log, instead of vanishing."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, transaction
from django.test import override_settings
from django.utils import translation

from sla import tasks as sla_tasks
from sla.clocks.escalation import OVERTAKEN, clock_escalate, clocks_dispatch
from sla.models import Clock, EscalationLevel
from sla.tasks import sla_clock_sweep_task, sla_clocks_escalate_task
from tests.factories import World, open_ticket
from tickets import services
from tickets.models import Ticket, TicketEvent
from tickets.templatetags.pacte import event_summary

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")
MONDAY_9 = datetime(2026, 6, 8, 9, 0, tzinfo=BERLIN)


def blocking(world: World, count: int) -> list[Ticket]:
    with time_machine.travel(MONDAY_9, tick=False):
        return [open_ticket(world.alice, severity="blocking") for _ in range(count)]


def test_a_crossed_clock_is_queued_once_while_its_task_waits(world: World) -> None:
    (ticket,) = blocking(world, 1)
    crossed = MONDAY_9 + timedelta(hours=4)  # the acknowledgement's warning (3 h 45 min)
    ack = Clock.objects.get(ticket=ticket, metric="acknowledgement")
    assert clocks_dispatch(now=crossed) == [ack.pk]
    # Workers lag: later sweeps find it crossed and unhandled, but queued already.
    assert clocks_dispatch(now=crossed + timedelta(minutes=1)) == []
    assert clocks_dispatch(now=crossed + timedelta(minutes=9)) == []
    # The task was lost with its worker: once the lease is over, it is queued again.
    assert clocks_dispatch(now=crossed + timedelta(minutes=11)) == [ack.pk]
    # The task ran: the clock is free to be queued for its next threshold.
    with time_machine.travel(crossed + timedelta(minutes=12), tick=False):
        assert sla_clocks_escalate_task([ack.pk])["escalated"] == 1
    ack.refresh_from_db()
    assert (ack.escalation_level, ack.dispatched_at) == (EscalationLevel.WARNED, None)
    assert clocks_dispatch(now=crossed + timedelta(minutes=13)) == []  # nothing crossed anew
    assert clocks_dispatch(now=MONDAY_9 + timedelta(hours=5)) == [ack.pk]  # the breach


@override_settings(PACTE_ESCALATION_BATCH=4)
def test_the_sweep_publishes_batches_and_never_the_same_clock_twice(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the sweep hands to the broker (bench/sweep.py counts it in a real Redis)."""
    published: list[list[int]] = []
    monkeypatch.setattr(sla_clocks_escalate_task, "delay", published.append)
    blocking(world, 5)  # ten clocks, warned at 3 h 45 min and at 18 h
    with time_machine.travel(MONDAY_9 + timedelta(days=3), tick=False):
        assert sla_clock_sweep_task() == 10
        assert [len(batch) for batch in published] == [4, 4, 2]
        assert sla_clock_sweep_task() == 0  # the workers lag: nothing is queued again
    assert len(published) == 3
    assert sorted(sum(published, [])) == sorted(Clock.objects.values_list("pk", flat=True))


@override_settings(PACTE_ESCALATION_BATCH=100)
def test_a_backlog_larger_than_one_claim_is_queued_by_one_sweep_in_rounds(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A claim takes SWEEP_CLAIM clocks and a sweep claims again while one comes back full, up
    to SWEEP_ROUNDS: a backlog is not left waiting a minute for the next sweep."""
    published: list[list[int]] = []
    monkeypatch.setattr(sla_clocks_escalate_task, "delay", published.append)
    monkeypatch.setattr(sla_tasks, "SWEEP_CLAIM", 3)
    monkeypatch.setattr(sla_tasks, "SWEEP_ROUNDS", 3)
    blocking(world, 4)  # eight crossed clocks: rounds of 3, 3 and 2
    with time_machine.travel(MONDAY_9 + timedelta(days=3), tick=False):
        assert sla_clock_sweep_task() == 8
        assert [len(batch) for batch in published] == [3, 3, 2]
    # Twelve more, and the eight whose tasks were lost (their lease is over): three full rounds,
    # then the next sweep takes the rest.
    blocking(world, 6)
    published.clear()
    with time_machine.travel(MONDAY_9 + timedelta(days=6), tick=False):
        assert [sla_clock_sweep_task() for _ in range(3)] == [9, 9, 2]
    assert len(set(sum(published, []))) == 20


@pytest.mark.django_db(transaction=True)
def test_a_clock_another_transaction_holds_is_skipped(world: World) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite locks the whole database (CI runs both)")
    tickets = blocking(world, 2)
    held = Clock.objects.get(ticket=tickets[0], metric="acknowledgement")
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        with transaction.atomic():
            Clock.objects.select_for_update().get(pk=held.pk)
            locked.set()
            release.wait(10)
        connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(10)
        claimed = clocks_dispatch(now=MONDAY_9 + timedelta(days=3))
    finally:
        release.set()
        holder.join()
    assert held.pk not in claimed and len(claimed) == 3


def test_a_warning_the_breach_overtook_is_told(world: World) -> None:
    (ticket,) = blocking(world, 1)
    ack = Clock.objects.get(ticket=ticket, metric="acknowledgement")
    told: list[str] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: told.append(record.getMessage())  # type: ignore[method-assign]  # a list, not a stream
    logger = logging.getLogger("sla.clocks.escalation")  # whatever the logging setup a test left
    logger.addHandler(handler)
    disabled, logger.disabled = logger.disabled, False  # a dictConfig may have turned it off
    try:
        escalation = clock_escalate(clock_id=ack.pk, now=MONDAY_9 + timedelta(hours=6))
    finally:
        logger.removeHandler(handler)
        logger.disabled = disabled
    assert escalation is not None
    assert escalation.fired == (EscalationLevel.BREACHED,) and escalation.overtaken
    assert any("overtaken by the breach" in line for line in told)
    event = TicketEvent.objects.get(ticket=ticket, note=OVERTAKEN)
    with translation.override("en"):
        assert "the warning was not sent" in str(event_summary(event))


def test_a_clock_made_late_at_once_by_a_change_overtook_no_warning(world: World) -> None:
    with time_machine.travel(MONDAY_9, tick=False):
        ticket = open_ticket(world.alice, severity="minor")  # 2 business days
    with time_machine.travel(MONDAY_9 + timedelta(hours=6), tick=False):
        services.ticket_reclassify(
            ticket=ticket, actor=world.agent_eu, severity="blocking", reason="Outage"
        )  # 5 business hours: due at 14:00, already past
    ack = Clock.objects.get(ticket=ticket, metric="acknowledgement")
    escalation = clock_escalate(clock_id=ack.pk, now=MONDAY_9 + timedelta(hours=6, minutes=1))
    assert escalation is not None and not escalation.overtaken
    assert not TicketEvent.objects.filter(ticket=ticket, note=OVERTAKEN).exists()
