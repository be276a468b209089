"""Next reply and periodic update (SLA-RULES.md, "Pause reasons and further promises"): each
round a clock of its own, hand-computed on the europe calendar (Mon–Thu 09:00–17:00, Fri
09:00–16:00, Berlin) and checked against the naive minute-by-minute reference; warnings and
escalation, the queue badge, the explanation, the report, the API and the customer's page."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import Client

from sla.clocks.escalation import clock_escalate
from sla.clocks.recount import calendar_edited_by
from sla.clocks.selectors import calendar_snapshot_by_slug, clock_explanation, clock_runs
from sla.clocks.values import ClockKind
from sla.models import (
    Calendar,
    Clock,
    Closure,
    EscalationLevel,
    Notification,
    SlaPolicy,
    SlaPolicyVersion,
    SlaTarget,
    StopReason,
)
from sla.notifications.delivery import notifications_deliver
from sla.policies import policy_version_add
from sla.reports.figures import sla_report
from tests.factories import World, client_for, open_ticket
from tests.sla.naive import naive_add, naive_elapsed
from tests.sla.rounds import (
    BERLIN,
    H,
    M,
    at,
    europe_add,
    reply,
    rounds,
    status,
)
from tickets import selectors, services
from tickets.accounts.tokens import api_token_create
from tickets.models import Status, Ticket

pytestmark = pytest.mark.django_db


def test_each_customer_message_after_the_acknowledgement_is_owed_a_reply(
    world: World, promises: SlaPolicyVersion
) -> None:
    ticket = open_ticket(world.alice, severity="blocking", received_at=at(8, 9))
    reply(world.alice.user, ticket, at(8, 9, 30))  # the acknowledgement answers this one
    assert rounds(ticket, "next_reply") == []
    reply(world.agent_eu, ticket, at(8, 10))  # acknowledged
    reply(world.alice.user, ticket, at(8, 16))
    # Monday 16:00 + 2 business hours: 1 h on Monday, then Tuesday 09:00–10:00.
    first = rounds(ticket, "next_reply")
    assert [(c.round, c.origin_at, c.due_at) for c in first] == [(1, at(8, 16), at(9, 10))]
    assert first[0].due_at == europe_add(ClockKind.BUSINESS_HOURS, at(8, 16), 2 * H)
    reply(world.alice.user, ticket, at(9, 9, 30))  # joins the reply already owed
    assert len(rounds(ticket, "next_reply")) == 1
    reply(world.agent_eu, ticket, at(8 + 1, 9, 45))
    reply(world.alice.user, ticket, at(9, 11))
    reply(world.agent_eu, ticket, at(9, 14))  # an hour late
    kept, late = rounds(ticket, "next_reply")
    assert (kept.outcome, kept.stop_reason, kept.stopped_at) == (
        "met",
        "public_reply",
        at(9, 9, 45),
    )
    assert (late.round, late.due_at, late.outcome, late.breached_at) == (
        2,
        at(9, 13),
        "breached",
        at(9, 13),
    )
    assert (
        late.elapsed
        == 3 * H
        == naive_elapsed(
            calendar_snapshot_by_slug("europe"), ClockKind.BUSINESS_HOURS, at(9, 11), at(9, 14)
        )
    )
    report = sla_report(Ticket.objects.all(), start=at(1, 0), end=at(30, 0), zone=BERLIN)
    assert report.share("next_reply") == pytest.approx(0.5)


def test_a_note_an_explicit_acknowledgement_or_another_desks_policy_answer_nothing(
    world: World, promises: SlaPolicyVersion
) -> None:
    ticket = open_ticket(world.alice, severity="blocking", received_at=at(8, 9))
    with time_machine.travel(at(8, 9, 10), tick=False):
        services.ticket_acknowledge(ticket=ticket, actor=world.agent_eu)
    reply(world.alice.user, ticket, at(8, 10))  # acknowledged without a word: a reply is owed
    reply(world.agent_eu, ticket, at(8, 10, 30), internal=True)
    (owed,) = rounds(ticket, "next_reply")
    assert owed.state == Clock.State.RUNNING and owed.due_at == at(8, 12)
    # A logged call is a reply.
    reply(world.agent_eu, ticket, at(8, 11), channel="phone")
    owed.refresh_from_db()
    assert (owed.outcome, owed.stop_reason) == ("met", StopReason.PHONE_CALL)


def test_a_minor_ticket_without_the_promises_has_no_rounds(
    world: World, promises: SlaPolicyVersion
) -> None:
    ticket = open_ticket(world.alice, severity="minor", received_at=at(8, 9))
    reply(world.agent_eu, ticket, at(8, 10))
    reply(world.alice.user, ticket, at(8, 11))
    assert not Clock.objects.filter(ticket=ticket, metric__in=["next_reply", "update"]).exists()


def test_the_update_is_owed_every_four_business_hours_while_open_and_not_paused(
    world: World, promises: SlaPolicyVersion
) -> None:
    ticket = open_ticket(world.alice, severity="blocking", received_at=at(8, 9))
    (first,) = rounds(ticket, "update")
    assert (first.origin_at, first.due_at) == (None, at(8, 13))
    reply(world.agent_eu, ticket, at(8, 10))  # an update: the next is due 14:00
    reply(world.agent_eu, ticket, at(8, 10, 5), internal=True)  # a note is not one
    first, second = rounds(ticket, "update")
    assert (first.outcome, second.origin_at, second.due_at) == ("met", at(8, 10), at(8, 14))
    status(world, ticket, Status.WAITING_ON_CUSTOMER, at(8, 12))  # 2 h counted
    second.refresh_from_db()
    assert second.state == Clock.State.PAUSED
    reply(world.alice.user, ticket, at(9, 9))  # the customer answers: it resumes
    second.refresh_from_db()
    assert second.state == Clock.State.RUNNING
    assert second.due_at == at(9, 11) == europe_add(ClockKind.BUSINESS_HOURS, at(9, 9), 2 * H)
    status(world, ticket, Status.RESOLVED, at(9, 10))  # 3 h counted: stopped, kept
    second.refresh_from_db()
    assert (second.state, second.outcome, second.elapsed) == ("stopped", "met", 3 * H)
    status(world, ticket, Status.IN_PROGRESS, at(9, 15))  # reopened: the round goes on
    second.refresh_from_db()
    assert (second.state, second.due_at) == ("running", at(9, 16))
    assert len(rounds(ticket, "update")) == 2
    assert Ticket.objects.get(pk=ticket.pk).sla_due_at == at(9, 16)  # the queue's order


def test_a_reply_while_resolved_starts_the_round_counted_from_the_reopen(
    world: World, promises: SlaPolicyVersion
) -> None:
    ticket = open_ticket(world.alice, severity="blocking", received_at=at(8, 9))
    status(world, ticket, Status.RESOLVED, at(8, 10))
    reply(world.agent_eu, ticket, at(8, 11))  # a word after resolution: no round, not open
    assert len(rounds(ticket, "update")) == 1
    status(world, ticket, Status.IN_PROGRESS, at(9, 9))
    first, second = rounds(ticket, "update")
    assert (first.state, second.origin_at, second.due_at) == ("stopped", at(8, 11), at(9, 13))


def test_the_hold_reason_pauses_the_round_beside_the_clock_it_pauses(
    world: World, promises: SlaPolicyVersion
) -> None:
    ticket = open_ticket(world.alice, severity="blocking", received_at=at(8, 9))
    reply(world.agent_eu, ticket, at(8, 9, 30))
    reply(world.alice.user, ticket, at(8, 10))  # a reply owed by 12:00
    status(world, ticket, Status.ON_HOLD, at(8, 11), "customer_request")  # pauses both kinds
    assert {c.metric: c.state for c in selectors.ticket_clocks(ticket) if c.state != "stopped"} == {
        "correction": "paused",
        "next_reply": "paused",
        "update": "paused",
    }
    status(world, ticket, Status.IN_PROGRESS, at(9, 9))
    owed = rounds(ticket, "next_reply")[0]
    assert owed.due_at == at(9, 10)  # an hour counted, an hour left
    status(world, ticket, Status.ON_HOLD, at(9, 9, 30), "third_party")  # the correction only
    owed.refresh_from_db()
    assert owed.state == Clock.State.RUNNING
    assert rounds(ticket, "update")[-1].state == Clock.State.PAUSED


def test_a_reclassification_recounts_stops_and_gains_rounds(
    world: World, promises: SlaPolicyVersion
) -> None:
    ticket = open_ticket(world.alice, severity="major", received_at=at(8, 9))
    reply(world.agent_eu, ticket, at(8, 10))
    status(world, ticket, Status.WAITING_ON_CUSTOMER, at(8, 11))
    reply(world.alice.user, ticket, at(8, 14))  # resumes; a reply owed within a business day
    (owed,) = rounds(ticket, "next_reply")
    assert owed.due_at == at(9, 14) and rounds(ticket, "update") == []
    with time_machine.travel(at(8, 15), tick=False):
        services.ticket_reclassify(
            ticket=ticket, actor=world.agent_eu, severity="blocking", reason="Outage"
        )
    owed.refresh_from_db()
    assert owed.due_at == at(8, 16)  # 14:00 + 2 business hours
    # The update it gains counts from the last reply (10:00), with the correction's pause
    # (11:00–14:00): 1 h, then from 14:00 on: due 17:00.
    (update,) = rounds(ticket, "update")
    assert (update.origin_at, update.due_at) == (at(8, 10), at(8, 17))
    assert update.due_at == europe_add(ClockKind.BUSINESS_HOURS, at(8, 14), 3 * H)
    with time_machine.travel(at(8, 15, 30), tick=False):
        services.ticket_reclassify(
            ticket=ticket, actor=world.agent_eu, severity="minor", reason="A typo after all"
        )
    owed.refresh_from_db()
    update.refresh_from_db()
    assert (owed.state, owed.stop_reason, owed.outcome) == ("stopped", "reclassified", "met")
    assert (update.state, update.stop_reason) == ("stopped", "reclassified")


def test_a_due_reply_is_warned_then_escalated_like_any_promise(
    world: World, promises: SlaPolicyVersion
) -> None:
    ticket = open_ticket(world.alice, severity="blocking", received_at=at(8, 9))
    reply(world.agent_eu, ticket, at(8, 9, 30))
    reply(world.alice.user, ticket, at(8, 10))
    owed = rounds(ticket, "next_reply")[0]
    assert owed.warn_at == at(8, 11, 30)  # 75 % of 2 h
    warned = clock_escalate(clock_id=owed.pk, now=at(8, 11, 31))
    assert warned is not None and warned.level == EscalationLevel.WARNED
    breached = clock_escalate(clock_id=owed.pk, now=at(8, 12, 1))
    assert breached is not None and breached.fired == (EscalationLevel.BREACHED,)
    kinds = set(Notification.objects.filter(clock=owed).values_list("kind", flat=True))
    assert kinds == {"warning", "breach"}
    # The alert names the promise.
    with time_machine.travel(at(8, 12, 2), tick=False):
        notifications_deliver(now=at(8, 12, 2))
    assert any("Next reply due" in m.body for m in mail.outbox)


def test_pages_show_the_round_under_way_and_how_the_earlier_ones_went(
    world: World, promises: SlaPolicyVersion
) -> None:
    ticket = open_ticket(world.alice, severity="blocking", received_at=at(8, 9))
    reply(world.agent_eu, ticket, at(8, 9, 30))
    reply(world.alice.user, ticket, at(8, 10))
    reply(world.agent_eu, ticket, at(8, 13))  # late
    reply(world.alice.user, ticket, at(8, 14))
    with time_machine.travel(at(8, 14, 30), tick=False):
        customer = client_for(world.alice.user).get(f"/tickets/{ticket.reference}/")
        explained = client_for(world.alice.user).get(
            f"/tickets/{ticket.reference}/clocks/next_reply/"
        )
        key = api_token_create(user=world.alice.user, name="test", days=1, now=at(8, 14, 30))[1]
        api = Client().get(f"/api/tickets/{ticket.reference}/", HTTP_AUTHORIZATION=f"Token {key}")
    page = customer.content.decode()
    assert "Next reply" in page and "Earlier rounds — kept: 0, late: 1" in page
    assert explained.status_code == 200
    text = explained.content.decode()
    assert "Next reply" in text
    owed = rounds(ticket, "next_reply")[1]
    explanation = clock_explanation(owed, now=at(8, 14, 30))
    assert explanation.segments[0].start == at(8, 14) and explanation.counted == 30 * M
    assert explanation.due_at == at(8, 16)
    assert api.status_code == 200
    listed = [(c["metric"], c["round"]) for c in api.json()["clocks"]]
    assert ("next_reply", 2) in listed and ("update", 3) in listed


def test_the_queue_badge_names_the_nearest_promise(
    world: World, promises: SlaPolicyVersion
) -> None:
    ticket = open_ticket(world.alice, severity="blocking", received_at=at(8, 9))
    reply(world.agent_eu, ticket, at(8, 9, 30))
    reply(world.alice.user, ticket, at(8, 10))  # reply owed 12:00, update 13:30
    with time_machine.travel(at(8, 10, 30), tick=False):
        page = client_for(world.agent_eu).get("/desk/")
    text = page.content.decode()
    assert "Next reply" in text and "1 h 30 min left" in text


def test_rounds_match_the_naive_reference_through_pauses(
    world: World, promises: SlaPolicyVersion
) -> None:
    """Many exchanges across evenings, a weekend and Corpus Christi (Thursday 4 June, a NW
    holiday): each round's due instant is its origin's plus its target in the naive
    reference, less what it counted before a pause."""
    europe = calendar_snapshot_by_slug("europe")
    ticket = open_ticket(
        world.alice, severity="blocking", received_at=datetime(2026, 6, 3, 15, 0, tzinfo=BERLIN)
    )
    reply(world.agent_eu, ticket, datetime(2026, 6, 3, 16, 0, tzinfo=BERLIN))
    moments = [
        (world.alice.user, datetime(2026, 6, 3, 16, 30, tzinfo=BERLIN)),
        (world.agent_eu, datetime(2026, 6, 5, 9, 45, tzinfo=BERLIN)),
        (world.alice.user, datetime(2026, 6, 5, 15, 20, tzinfo=BERLIN)),
        (world.agent_eu, datetime(2026, 6, 8, 11, 0, tzinfo=BERLIN)),
        (world.alice.user, datetime(2026, 6, 8, 22, 0, tzinfo=BERLIN)),
    ]
    for who, when in moments:
        reply(who, ticket, when)
    for clock in Clock.objects.filter(ticket=ticket, metric__in=["next_reply", "update"]):
        runs = clock_runs(clock)
        assert len(runs) == 1  # never paused here
        expected = naive_add(europe, ClockKind(clock.kind), clock.origin, clock.target)
        assert clock.due_at == expected, (clock.metric, clock.round)
    replies = rounds(ticket, "next_reply")
    # Wednesday 16:30 + 2 h: 30 min, Thursday a holiday, Friday 09:00–10:30.
    assert [c.due_at for c in replies] == [
        datetime(2026, 6, 5, 10, 30, tzinfo=BERLIN),
        datetime(2026, 6, 8, 10, 20, tzinfo=BERLIN),  # Friday closes 16:00: 40 min + 80 min
        datetime(2026, 6, 9, 11, 0, tzinfo=BERLIN),  # Monday 22:00: Tuesday 09:00 + 2 h
    ]
    assert [c.outcome for c in replies] == ["met", "breached", ""]


def test_a_closure_moves_a_round_from_its_own_origin(
    world: World, promises: SlaPolicyVersion, django_capture_on_commit_callbacks: Any
) -> None:
    ticket = open_ticket(world.alice, severity="blocking", received_at=at(8, 9))
    reply(world.agent_eu, ticket, at(8, 9, 30))
    reply(world.alice.user, ticket, at(8, 16))  # a reply owed by Tuesday 10:00
    with (
        time_machine.travel(at(8, 16, 30), tick=False),
        django_capture_on_commit_callbacks(execute=True),
        calendar_edited_by(world.manager),
    ):
        Closure.objects.create(
            calendar=Calendar.objects.get(slug="europe"),
            start=date(2026, 6, 9), end=date(2026, 6, 9), label="Inventory",
        )  # fmt: skip
    (owed,) = rounds(ticket, "next_reply")
    europe = calendar_snapshot_by_slug("europe")
    # Monday 16:00–17:00, Tuesday closed, Wednesday 09:00–10:00.
    assert (
        owed.due_at == at(10, 10) == naive_add(europe, ClockKind.BUSINESS_HOURS, at(8, 16), 2 * H)
    )
    assert owed.origin_at == at(8, 16)  # counted from the customer's message, not the arrival
    update = rounds(ticket, "update")[-1]  # from the 09:30 reply: 4 h, by Monday 13:30
    assert update.due_at == at(8, 13, 30)


def test_a_ticket_keeps_the_promises_of_the_version_it_was_received_under(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    """A version that adds a next reply from Wednesday on: Monday's ticket never owes one,
    Wednesday's does, also after its severity changes."""
    standard = SlaPolicy.objects.get(slug="standard")
    targets = [(t.severity, t.metric, t.amount, t.kind) for t in SlaTarget.objects.all()]
    with django_capture_on_commit_callbacks(execute=False):
        policy_version_add(
            policy=standard,
            effective_at=at(10, 0),
            targets=[*targets, ("blocking", "next_reply", 2, "business_hours")],
            now=at(1, 0),
        )
    before = open_ticket(world.alice, severity="blocking", received_at=at(8, 9))
    after = open_ticket(world.alice, severity="major", received_at=at(10, 9))
    for ticket, day in ((before, 8), (after, 10)):
        reply(world.agent_eu, ticket, at(day, 9, 30))
    with time_machine.travel(at(10, 9, 40), tick=False):
        services.ticket_reclassify(
            ticket=after, actor=world.agent_eu, severity="blocking", reason="Outage"
        )
    for ticket, day in ((before, 10), (after, 10)):
        reply(world.alice.user, ticket, at(day, 10))
    assert rounds(before, "next_reply") == []
    (owed,) = rounds(after, "next_reply")
    assert owed.due_at == at(10, 12) == europe_add(ClockKind.BUSINESS_HOURS, at(10, 10), 2 * H)
