"""Next reply and update in the orders real desks produce them: a severity changed while
resolved, a round begun at a reopen and counted again, a call logged with an earlier time, a
duplicate merged, a round begun on hold."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import time_machine

from sla.clocks.escalation import clock_escalate
from sla.clocks.recount import calendar_edited_by
from sla.clocks.selectors import clock_explanation
from sla.models import Calendar, Closure, SlaPolicyVersion
from tests.factories import World, client_for, open_ticket
from tests.sla.rounds import (
    at,
    reclassify,
    reply,
    rounds,
    status,
)
from tickets import services
from tickets.models import Status

pytestmark = pytest.mark.django_db


def test_an_update_is_owed_again_whatever_order_severity_and_resolution_come_in(
    world: World, promises: SlaPolicyVersion
) -> None:
    # Major (no update promise), resolved, made blocking while resolved, reopened.
    first = open_ticket(world.alice, severity="major", received_at=at(8, 9))
    status(world, first, Status.RESOLVED, at(8, 10))
    reclassify(world, first, "blocking", at(8, 11))
    assert rounds(first, "update") == []  # resolved: nothing is owed
    status(world, first, Status.IN_PROGRESS, at(9, 9))
    (owed,) = rounds(first, "update")
    assert (owed.state, owed.origin_at, owed.due_at) == ("running", at(8, 9), at(9, 13))
    # Blocking, made major (the round stops), resolved, made blocking again, reopened.
    second = open_ticket(world.alice, severity="blocking", received_at=at(8, 9))
    reclassify(world, second, "major", at(8, 10))
    status(world, second, Status.RESOLVED, at(8, 11))
    reclassify(world, second, "blocking", at(8, 12))
    status(world, second, Status.IN_PROGRESS, at(9, 9))
    assert [(c.state, c.stop_reason) for c in rounds(second, "update")] == [
        ("stopped", "reclassified"),
        ("running", ""),
    ]
    # A reply answered, made minor, the customer writes, made blocking again: it is owed.
    third = open_ticket(world.alice, severity="blocking", received_at=at(8, 9))
    reply(world.agent_eu, third, at(8, 9, 30))
    reclassify(world, third, "minor", at(8, 10))
    reply(world.alice.user, third, at(8, 11))
    reclassify(world, third, "blocking", at(8, 12))
    (owed,) = rounds(third, "next_reply")
    assert (owed.origin_at, owed.due_at) == (at(8, 11), at(8, 13))


def test_a_round_begun_at_a_reopen_keeps_its_start_when_counted_again(
    world: World, promises: SlaPolicyVersion, django_capture_on_commit_callbacks: Any
) -> None:
    ticket = open_ticket(world.alice, severity="blocking", received_at=at(8, 9))
    status(world, ticket, Status.RESOLVED, at(8, 10))
    reply(world.agent_eu, ticket, at(8, 11))  # while resolved
    status(world, ticket, Status.IN_PROGRESS, at(9, 9))
    owed = rounds(ticket, "update")[-1]
    assert (owed.origin_at, owed.due_at) == (at(8, 11), at(9, 13))
    with (
        time_machine.travel(at(9, 9, 30), tick=False),
        django_capture_on_commit_callbacks(execute=True),
        calendar_edited_by(world.manager),
    ):
        Closure.objects.create(
            calendar=Calendar.objects.get(slug="europe"),
            start=date(2026, 12, 24), end=date(2026, 12, 24), label="Christmas Eve",
        )  # fmt: skip
    owed.refresh_from_db()
    assert (owed.due_at, owed.breached_at) == (at(9, 13), None)


def test_a_call_logged_with_an_earlier_time_answers_nothing_said_after_it(
    world: World, promises: SlaPolicyVersion
) -> None:
    ticket = open_ticket(world.alice, severity="blocking", received_at=at(8, 9))
    reply(world.agent_eu, ticket, at(8, 9, 30))
    reply(world.agent_eu, ticket, at(8, 10, 20))  # the update round from 10:20
    reply(world.alice.user, ticket, at(8, 10, 30))
    with time_machine.travel(at(8, 10, 45), tick=False):
        services.ticket_reply(
            ticket=ticket,
            author=world.agent_eu,
            body="Called at ten.",
            channel="phone",
            received_at=at(8, 10),
        )
    (owed,) = rounds(ticket, "next_reply")
    assert (owed.state, owed.due_at) == ("running", at(8, 12, 30))
    assert rounds(ticket, "update")[-1].due_at == at(8, 14, 20)


def test_a_merged_duplicates_unanswered_message_is_owed_a_reply_on_the_target(
    world: World, promises: SlaPolicyVersion
) -> None:
    keep = open_ticket(world.alice, severity="blocking", received_at=at(8, 9))
    reply(world.agent_eu, keep, at(8, 9, 30))
    duplicate = open_ticket(world.alice, severity="blocking", received_at=at(8, 10))
    with time_machine.travel(at(8, 10, 30), tick=False):
        services.ticket_merge(source=duplicate, target=keep, actor=world.agent_eu)
    (owed,) = rounds(keep, "next_reply")
    assert (owed.origin_at, owed.due_at) == (at(8, 10), at(8, 12))


def test_a_round_begun_on_hold_is_explained_with_the_hold_reason(
    world: World, promises: SlaPolicyVersion
) -> None:
    ticket = open_ticket(world.alice, severity="blocking", received_at=at(8, 9))
    reply(world.agent_eu, ticket, at(8, 9, 30))
    status(world, ticket, Status.ON_HOLD, at(8, 10), "customer_request")
    reply(world.alice.user, ticket, at(8, 11))  # owed, but on hold
    status(world, ticket, Status.IN_PROGRESS, at(8, 13))
    (owed,) = rounds(ticket, "next_reply")
    assert owed.due_at == at(8, 15)
    explanation = clock_explanation(owed, now=at(8, 13, 30))
    paused = [s for s in explanation.segments if not s.counted]
    assert [(s.start, s.end, s.reason) for s in paused] == [
        (at(8, 11), at(8, 13), "On hold at the customer's request")
    ]


def test_a_reply_logged_before_the_due_instant_keeps_it_though_the_sweep_marked_a_breach(
    world: World, promises: SlaPolicyVersion
) -> None:
    ticket = open_ticket(world.alice, severity="blocking", received_at=at(8, 9))
    reply(world.agent_eu, ticket, at(8, 9, 30))  # an update is owed by 13:30
    update = rounds(ticket, "update")[-1]
    clock_escalate(clock_id=update.pk, now=at(8, 14))  # the sweep marks the breach
    update.refresh_from_db()
    assert update.breached_at == at(8, 13, 30)
    with time_machine.travel(at(8, 14, 5), tick=False):
        services.ticket_reply(
            ticket=ticket, author=world.agent_eu, body="Called.", channel="phone",
            received_at=at(8, 13),
        )  # fmt: skip
    update.refresh_from_db()
    assert (update.outcome, update.breached_at, update.stopped_at) == ("met", None, at(8, 13))


def test_an_acknowledgement_without_a_word_leaves_the_customers_question_owed(
    world: World, promises: SlaPolicyVersion
) -> None:
    ticket = open_ticket(world.alice, severity="blocking", received_at=at(8, 9))
    reply(world.alice.user, ticket, at(8, 9, 20))  # a question before anyone answered
    with time_machine.travel(at(8, 9, 30), tick=False):
        services.ticket_acknowledge(ticket=ticket, actor=world.agent_eu)
    (owed,) = rounds(ticket, "next_reply")
    assert (owed.origin_at, owed.due_at) == (at(8, 9, 20), at(8, 11, 20))


def test_the_promises_say_why_a_round_is_paused_and_a_kept_one_without_a_due_time(
    world: World, promises: SlaPolicyVersion
) -> None:
    ticket = open_ticket(world.alice, severity="blocking", received_at=at(8, 9))
    reply(world.agent_eu, ticket, at(8, 9, 30))
    status(world, ticket, Status.ON_HOLD, at(8, 10), "customer_request")
    reply(world.alice.user, ticket, at(8, 11))  # owed, paused at once
    with time_machine.travel(at(8, 11, 30), tick=False):
        page = client_for(world.alice.user).get(f"/tickets/{ticket.reference}/")
    text = page.content.decode()
    assert "Paused: On hold at the customer&#x27;s request" in text
    assert "Paused while we wait for your answer" not in text
    reply(world.agent_eu, ticket, at(8, 11, 45))  # answered while paused: kept, no due time
    with time_machine.travel(at(8, 12), tick=False):
        page = client_for(world.alice.user).get(f"/tickets/{ticket.reference}/")
    assert "promised by )" not in page.content.decode()
