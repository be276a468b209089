"""Every write to SLA clocks. tickets.services calls ``clocks_apply`` at the end of a write;
the moves of one clock are in ``sla.clocks.moves``, the promises kept in rounds (next reply,
periodic update) in ``sla.clocks.rounds``."""

from __future__ import annotations

import enum
from datetime import datetime

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext as _

from sla.clocks.moves import Downgrades, begin, pause, recompute, resume, stop
from sla.clocks.rounds import Rounds, paused_now
from sla.clocks.selectors import calendar_snapshot_for_ticket, sla_targets_for
from sla.clocks.values import CalendarSnapshot, NeverOpenError
from sla.exceptions import NoSupportHours
from sla.models import ROUND_METRICS, Clock, Metric, SlaTarget, StopReason
from tickets.models import Message, Ticket, User


class ClockChange(enum.StrEnum):
    """What happened to a ticket, as far as its clocks are concerned."""

    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"  # first public agent reply or explicit acknowledge
    WAITING = "waiting"  # waiting on the customer
    HELD = "held"  # on hold for a reason of the policy (ticket.pause_reason)
    RESUMED = "resumed"  # the customer answered, or an agent took the ticket back
    RESOLVED = "resolved"  # resolved or closed
    REOPENED = "reopened"
    RECLASSIFIED = "reclassified"  # severity changed
    SUPPORT_REPLIED = "support_replied"  # any public reply of support, a logged call included
    CUSTOMER_WROTE = "customer_wrote"  # a public message of the customer's side
    MESSAGES_MOVED = "messages_moved"  # a duplicate's messages merged into the ticket


# The changes only the promises kept in rounds heed: a ticket without them skips the rest.
_ROUND_CHANGES = frozenset(
    {ClockChange.SUPPORT_REPLIED, ClockChange.CUSTOMER_WROTE, ClockChange.MESSAGES_MOVED}
)


def _start(
    ticket: Ticket,
    targets: dict[str, SlaTarget],
    cal: CalendarSnapshot,
    at: datetime,
    actor: User | None,
) -> None:
    """The clocks that start with the ticket: acknowledgement, correction, and the first
    update round (a next reply waits for a message after the acknowledgement)."""
    for metric in (Metric.ACKNOWLEDGEMENT, Metric.CORRECTION, Metric.UPDATE):
        target = targets.get(metric)
        if target is not None:
            begin(ticket, metric, target, cal, at, actor)


def _pause_as_status_says(
    ticket: Ticket,
    clocks: dict[str, Clock],
    cal: CalendarSnapshot,
    change: ClockChange,
    at: datetime,
    actor: User | None,
) -> None:
    """Pause the clocks the status pauses and resume the others (SLA-RULES.md, "Pause
    reasons"); a pause on hold names its reason."""
    paused = paused_now(ticket)
    reason = ticket.pause_reason.slug if change is ClockChange.HELD and ticket.pause_reason else ""
    for metric, clock in sorted(clocks.items()):
        if clock.state == Clock.State.RUNNING and metric in paused:
            pause(clock, cal, at, actor, reason)
        elif clock.state == Clock.State.PAUSED and metric not in paused:
            resume(clock, cal, at, actor)


def clocks_apply(
    *,
    ticket: Ticket,
    change: ClockChange,
    at: datetime,
    actor: User | None = None,
    reason: StopReason = StopReason.RESOLVED,
    message: Message | None = None,
) -> None:
    """Apply one ticket change to its clocks, following SLA-RULES.md.

    ``reason`` and ``message`` are the qualifying event recorded on a clock that stops.
    """
    targets = sla_targets_for(ticket)
    if change in _ROUND_CHANGES and not ROUND_METRICS & targets.keys():
        return  # the ticket's policy version makes no promise a message starts or stops
    with transaction.atomic():
        cal = calendar_snapshot_for_ticket(ticket)
        try:
            if change is ClockChange.RECEIVED:
                _start(ticket, targets, cal, at, actor)
            else:
                _change(ticket, targets, cal, change, at, actor, reason, message)
        except NeverOpenError as error:
            raise NoSupportHours(
                _("The %(desk)s desk has no support hours: its calendar must be fixed first.")
                % {"desk": ticket.desk.name}
            ) from error
        nearest = (
            Clock.objects.filter(ticket=ticket, state=Clock.State.RUNNING)
            .order_by("due_at")
            .values_list("due_at", flat=True)
            .first()
        )
        if ticket.sla_due_at != nearest:
            ticket.sla_due_at = nearest
            ticket.save(update_fields=["sla_due_at"])


def _change(
    ticket: Ticket,
    targets: dict[str, SlaTarget],
    cal: CalendarSnapshot,
    change: ClockChange,
    at: datetime,
    actor: User | None,
    reason: StopReason,
    message: Message | None,
) -> None:
    clocks_of = Clock.objects.select_for_update().filter(ticket=ticket)
    if change is not ClockChange.RECLASSIFIED:
        # The rounds under way only (the latest of each promise): a long conversation's
        # answered rounds are neither read nor locked on each message.
        latest = Clock.objects.filter(ticket=ticket, metric=OuterRef("metric")).order_by("-round")
        clocks_of = clocks_of.filter(round=Subquery(latest.values("round")[:1]))
    every = list(clocks_of.order_by("round"))
    for each in every:
        each.ticket = ticket
    rounds = Rounds(ticket, every, targets, cal, actor)
    # The round under way of each promise (acknowledgement and correction have one).
    clocks = {c.metric: c for c in every}
    downgrades = Downgrades(ticket)
    ack = clocks.get(Metric.ACKNOWLEDGEMENT)
    correction = clocks.get(Metric.CORRECTION)
    if change is ClockChange.ACKNOWLEDGED:
        if ack is not None and ack.state == Clock.State.RUNNING:
            stop(ack, cal, at, actor, reason, message, downgrades)
        if reason == StopReason.ACKNOWLEDGE and ROUND_METRICS & targets.keys():
            rounds.acknowledged_silently(at)
    elif change is ClockChange.SUPPORT_REPLIED:
        rounds.support_replied(at, reason, message, downgrades)
    elif change is ClockChange.CUSTOMER_WROTE:
        rounds.customer_wrote(at)
    elif change is ClockChange.MESSAGES_MOVED:
        rounds.messages_moved()
    elif change in (ClockChange.WAITING, ClockChange.HELD, ClockChange.RESUMED):
        _pause_as_status_says(ticket, clocks, cal, change, at, actor)
    elif change is ClockChange.RESOLVED:
        for one in (ack, correction):
            if one is not None and one.state != Clock.State.STOPPED:
                stop(one, cal, at, actor, reason, message, downgrades)
        rounds.resolved(at, reason, message, downgrades)
    elif change is ClockChange.REOPENED:
        if correction is not None and correction.state != Clock.State.RUNNING:
            resume(correction, cal, at, actor)
        rounds.reopened(at)
    elif change is ClockChange.RECLASSIFIED:
        for one in (ack, correction):
            target = targets.get(one.metric) if one is not None else None
            if one is not None and target is not None:
                recompute(ticket, one, target, cal, at, actor, downgrades)
        rounds.reclassified(at, downgrades, correction)
