"""Pause reasons (SLA-RULES.md, "Pause reasons and further promises"): a policy lists its
reasons beyond waiting on the customer and the clocks each pauses; agents put a ticket on hold
with one; the deadlines keep the pauses (hand-computed, checked against the naive reference);
the explanation and the report name the reason, and customers read an internal one as "on
hold"."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from sla.clocks.selectors import calendar_snapshot_by_slug, clock_explanation
from sla.clocks.values import ClockKind
from sla.models import Clock, PauseReason
from sla.reports.listings import pauses_by_reason
from tests.factories import World, open_ticket
from tests.sla.naive import naive_add
from tickets import services
from tickets.exceptions import TicketError
from tickets.models import Status, Ticket

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")
H = timedelta(hours=1)


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 6, day, hour, tzinfo=BERLIN)


def status(world: World, ticket: Ticket, value: str, when: datetime, reason: str = "") -> None:
    with time_machine.travel(when, tick=False):
        services.ticket_change_status(
            ticket=ticket, actor=world.agent_eu, status=value, pause_reason=reason
        )


def clock(ticket: Ticket, metric: str) -> Clock:
    return Clock.objects.get(ticket=ticket, metric=metric)


def test_a_third_party_pauses_the_correction_only(world: World) -> None:
    ticket = open_ticket(world.alice, received_at=at(8, 9))  # major: 1 and 2 business days
    status(world, ticket, Status.ACKNOWLEDGED, at(8, 10))
    status(world, ticket, Status.ON_HOLD, at(8, 12), "third_party")  # 3 h counted
    assert clock(ticket, "correction").state == Clock.State.PAUSED
    status(world, ticket, Status.IN_PROGRESS, at(10, 12))
    # From Wednesday 12:00, 45 h of business days: 12 h that day, 24 h on Thursday, 9 h on
    # Friday.
    europe = calendar_snapshot_by_slug("europe")
    due = clock(ticket, "correction").due_at
    assert due == at(12, 9) == naive_add(europe, ClockKind.BUSINESS_DAYS, at(10, 12), 45 * H)


def test_on_hold_at_the_customers_request_pauses_both_and_waiting_resumes_one(
    world: World,
) -> None:
    ticket = open_ticket(world.alice, severity="blocking", received_at=at(8, 9))
    status(world, ticket, Status.ACKNOWLEDGED, at(8, 9))  # acknowledged at once
    with time_machine.travel(at(8, 10), tick=False), pytest.raises(TicketError, match="why"):
        services.ticket_change_status(ticket=ticket, actor=world.agent_eu, status="on_hold")
    status(world, ticket, Status.ON_HOLD, at(8, 10), "customer_request")
    assert clock(ticket, "correction").state == Clock.State.PAUSED  # 1 h counted
    status(world, ticket, Status.WAITING_ON_CUSTOMER, at(9, 9))
    assert clock(ticket, "correction").state == Clock.State.PAUSED  # still: waiting
    status(world, ticket, Status.IN_PROGRESS, at(9, 9))
    # One business day (24 h of business days) less the hour counted: Tuesday 09:00 + 23 h.
    europe = calendar_snapshot_by_slug("europe")
    due = clock(ticket, "correction").due_at
    assert due == at(10, 8) == naive_add(europe, ClockKind.BUSINESS_DAYS, at(9, 9), 23 * H)


def test_the_acknowledgement_pauses_when_the_reason_says_so(world: World) -> None:
    # Blocking, Monday 09:00: 5 business hours to acknowledge. The customer asks at 10:00 to
    # wait until Tuesday 09:00 (1 h counted); then 4 h: Tuesday 13:00.
    ticket = open_ticket(world.alice, severity="blocking", received_at=at(8, 9))
    status(world, ticket, Status.ON_HOLD, at(8, 10), "customer_request")
    assert clock(ticket, "acknowledgement").state == Clock.State.PAUSED
    status(world, ticket, Status.IN_PROGRESS, at(9, 9))
    europe = calendar_snapshot_by_slug("europe")
    due = clock(ticket, "acknowledgement").due_at
    assert due == at(9, 13) == naive_add(europe, ClockKind.BUSINESS_HOURS, at(9, 9), 4 * H)
    # Waiting on a third party leaves the acknowledgement running.
    other = open_ticket(world.alice, severity="blocking", received_at=at(8, 9))
    status(world, other, Status.ON_HOLD, at(8, 10), "third_party")
    assert clock(other, "acknowledgement").state == Clock.State.RUNNING


def test_the_reason_is_explained_and_reported_internal_ones_hidden_from_customers(
    world: World,
) -> None:
    PauseReason.objects.filter(slug="third_party").update(internal=True)
    ticket = open_ticket(world.alice, received_at=at(8, 9))
    status(world, ticket, Status.ACKNOWLEDGED, at(8, 10))
    status(world, ticket, Status.ON_HOLD, at(8, 12), "third_party")
    status(world, ticket, Status.IN_PROGRESS, at(9, 12))
    correction = clock(ticket, "correction")
    agent_reasons = [s.reason for s in clock_explanation(correction, now=at(9, 13)).segments]
    customer_reasons = [
        s.reason for s in clock_explanation(correction, now=at(9, 13), for_customer=True).segments
    ]
    assert "Waiting on a third party" in agent_reasons
    assert "Waiting on a third party" not in customer_reasons and "On hold" in customer_reasons
    rows = pauses_by_reason(Ticket.objects.all())
    assert [(r.reason, r.tickets, r.pauses) for r in rows] == [("Waiting on a third party", 1, 1)]
    customer = Client()
    customer.force_login(world.alice.user)  # type: ignore[arg-type]
    status(world, ticket, Status.ON_HOLD, at(9, 14), "third_party")
    page = customer.get(f"/tickets/{ticket.reference}/").content.decode()
    assert "On hold" in page and "third party" not in page
