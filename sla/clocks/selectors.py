"""Reads of the clocks: calendar snapshots for the pure arithmetic, policies' targets, a
ticket's clocks and their explanation, the clocks the sweep escalates."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from sla.clocks.calendar import counted_intervals
from sla.clocks.deadlines import PAUSE_NOTE, Explanation, GapReason, Run, counted, explain
from sla.clocks.values import CalendarSnapshot, ClockKind, Segment
from sla.clocks.values import Closure as ClosureValue
from sla.clocks.values import ExtraOpening as ExtraOpeningValue
from sla.models import (
    Calendar,
    Clock,
    EscalationLevel,
    Metric,
    PauseReason,
    SlaPolicy,
    SlaTarget,
)
from sla.policies import targets_in_force
from tickets.models import Ticket, TicketEvent


def calendar_snapshot(calendar: Calendar) -> CalendarSnapshot:
    """The frozen value the pure functions work on, built from the calendar's rows."""
    weekly: defaultdict[int, list[tuple[int, int]]] = defaultdict(list)
    for interval in calendar.intervals.all():
        weekly[interval.weekday].append((interval.start_minute, interval.end_minute))
    return CalendarSnapshot(
        time_zone=calendar.time_zone,
        weekly=tuple(tuple(sorted(weekly[day])) for day in range(7)),
        holiday_country=calendar.holiday_country,
        holiday_subdivision=calendar.holiday_subdivision,
        closures=tuple(
            ClosureValue(start=c.start, end=c.end, label=c.label) for c in calendar.closures.all()
        ),
        extra_openings=tuple(
            ExtraOpeningValue(
                day=o.day, start_minute=o.start_minute, end_minute=o.end_minute, label=o.label
            )
            for o in calendar.extra_openings.all()
        ),
    )


def calendar_snapshot_for_ticket(ticket: Ticket) -> CalendarSnapshot:
    return calendar_snapshot_by_id(ticket.clock_calendar_id)


def calendar_snapshot_read(calendar_id: int) -> CalendarSnapshot:
    """The calendar's snapshot built from its rows now (the recount of an edit)."""
    calendar = Calendar.objects.prefetch_related("intervals", "closures", "extra_openings").get(
        pk=calendar_id
    )
    return calendar_snapshot(calendar)


def calendar_snapshot_by_id(calendar_id: int) -> CalendarSnapshot:
    """The calendar's snapshot, kept by the process while the calendar is unchanged."""
    from sla.clocks.snapshots import snapshot_by_id  # which builds them with calendar_snapshot

    return snapshot_by_id(calendar_id)


def sla_targets_for(ticket: Ticket) -> dict[str, SlaTarget]:
    """The targets of the ticket's severity in the version of its organization's policy in
    force when the ticket was received (also after a severity change), by metric."""
    return targets_in_force(ticket.policy_id_in_force, ticket.severity, ticket.received_at)


METRIC_ORDER = {metric: index for index, metric in enumerate(Metric.values)}


def current_clocks(clocks: Iterable[Clock]) -> list[Clock]:
    """The clock under way of each promise (its latest round), in the policy's order."""
    latest: dict[str, Clock] = {}
    for clock in clocks:
        if clock.metric not in latest or clock.round > latest[clock.metric].round:
            latest[clock.metric] = clock
    return sorted(latest.values(), key=lambda c: METRIC_ORDER.get(c.metric, 9))


def earlier_rounds(clocks: Sequence[Clock]) -> dict[str, tuple[int, int]]:
    """Of each promise kept in rounds, the rounds before its latest: (kept, late)."""
    current = {c.pk for c in current_clocks(clocks)}
    counts: dict[str, tuple[int, int]] = {}
    for clock in clocks:
        if clock.pk in current or clock.state != Clock.State.STOPPED:
            continue
        kept, late = counts.get(clock.metric, (0, 0))
        breached = clock.outcome == Clock.Outcome.BREACHED
        counts[clock.metric] = (kept + (not breached), late + breached)
    return counts


def calendar_snapshot_by_slug(slug: str) -> CalendarSnapshot:
    calendar = Calendar.objects.prefetch_related("intervals", "closures", "extra_openings").get(
        slug=slug
    )
    return calendar_snapshot(calendar)


def policy_targets(
    policy_slug: str, severity: str, at: datetime | None = None
) -> dict[str, SlaTarget]:
    """The targets of a policy for one severity in the version in force at `at` (now), by
    metric (empty if none)."""
    policy_id = SlaPolicy.objects.filter(slug=policy_slug).values_list("pk", flat=True).first()
    return targets_in_force(policy_id, severity, at or timezone.now())


def _pause_labels(ticket: Ticket, *, for_customer: bool) -> dict[str, str]:
    """The names of the ticket's policy's pause reasons, by slug, in the active language; an
    internal one reads "on hold" for customers."""
    reasons = PauseReason.objects.filter(policy_id=ticket.policy_id_in_force)
    return {r.slug: str(_("On hold")) if for_customer and r.internal else r.label for r in reasons}


def _round_events(events: Iterable[TicketEvent], number: int) -> list[TicketEvent]:
    """The history of one round of a clock, from its start (the one change with no state
    before it) to the next round's start."""
    rounds: list[list[TicketEvent]] = [[]]
    for event in events:
        if not event.before and rounds[-1]:
            rounds.append([])
        rounds[-1].append(event)
    return rounds[number - 1] if len(rounds) >= number else []


def clock_explanation(clock: Clock, *, now: datetime, for_customer: bool = False) -> Explanation:
    """The counted and uncounted stretches of a clock from its ticket's arrival until now, and
    on to its due instant; each pause with its reason (customers read internal ones as "on
    hold")."""
    ticket = clock.ticket
    cal = calendar_snapshot_for_ticket(ticket)
    runs = clock_runs(clock)
    changes = TicketEvent.objects.filter(
        ticket_id=clock.ticket_id, kind=TicketEvent.Kind.CLOCK, field=clock.metric
    ).order_by("created_at", "id")
    # A history "after" is the state a clock went to: "paused" (its note naming the reason
    # when on hold), or "stopped:<outcome>".
    labels: dict[str, str] | None = None
    gap_reasons: list[str] = []
    for event in _round_events(changes, clock.round):
        if event.after.startswith(Clock.State.STOPPED):
            gap_reasons.append(GapReason.STOPPED)
        elif event.after == Clock.State.PAUSED and event.note.startswith(PAUSE_NOTE):
            if labels is None:
                labels = _pause_labels(ticket, for_customer=for_customer)
            slug = event.note.removeprefix(PAUSE_NOTE)
            gap_reasons.append(labels.get(slug, str(_("On hold"))))
        elif event.after == Clock.State.PAUSED:
            gap_reasons.append(GapReason.WAITING_ON_CUSTOMER)
    explanation = explain(
        cal,
        ClockKind(clock.kind),
        received_at=clock.origin,
        runs=runs,
        gap_reasons=gap_reasons,
        target=clock.target,
        until=min(clock.stopped_at or now, now),
    )
    if clock.state == Clock.State.RUNNING and clock.due_at is not None and clock.due_at > now:
        # From now, or from the clock's start when it has not started yet: the time before
        # does not count, whatever the calendar says of it.
        begins = max(now, runs[-1][0]) if runs else now
        ahead = counted_intervals(cal, ClockKind(clock.kind), begins, clock.due_at)
        if begins > now:
            waiting = Segment(now.astimezone(cal.tz), begins, False, GapReason.BEFORE_OPENING)
            ahead.insert(0, waiting)
        explanation = replace(explanation, ahead=tuple(ahead))
    return explanation


def clock_runs(clock: Clock) -> list[Run]:
    """The runs of a clock as aware datetimes (stored as ISO strings in JSON)."""
    runs: list[Run] = []
    for start, end in clock.runs:
        start_at = parse_datetime(start)
        assert start_at is not None  # written by sla.clocks.services, always ISO 8601
        runs.append((start_at, parse_datetime(end) if end else None))
    return runs


def clocks_counted(ticket: Ticket, clocks: list[Clock], *, now: datetime) -> dict[int, timedelta]:
    """Counted time of each clock so far, by clock id (one calendar load for all)."""
    if not clocks:
        return {}
    cal = calendar_snapshot_for_ticket(ticket)
    return {
        clock.pk: counted(cal, ClockKind(clock.kind), clock_runs(clock), now) for clock in clocks
    }


def clocks_to_escalate(*, now: datetime, limit: int = 5000) -> list[int]:
    """Ids of running clocks that crossed a threshold they have not been escalated for, and
    that no sweep queued within the lease.

    Three seeks, one per level, each through an index that leads with (state, level): the
    sweep reads only crossed, unhandled clocks, never every open ticket.
    """
    # A clock queued by a sweep waits for its worker, unless the lease is over (a lost task).
    lease_over = now - timedelta(seconds=settings.PACTE_ESCALATION_LEASE_SECONDS)
    lease = Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=lease_over)
    running = Clock.objects.filter(lease, state=Clock.State.RUNNING)
    crossed = (
        running.filter(escalation_level=EscalationLevel.NONE, warn_at__lte=now),
        running.filter(
            escalation_level__in=[EscalationLevel.NONE, EscalationLevel.WARNED], due_at__lte=now
        ),
        running.filter(
            escalation_level__in=[
                EscalationLevel.NONE,
                EscalationLevel.WARNED,
                EscalationLevel.BREACHED,
            ],
            escalate_at__lte=now,
        ),
    )
    ids: set[int] = set()
    for queryset in crossed:
        ids.update(queryset.order_by().values_list("pk", flat=True)[:limit])
    return sorted(ids)[:limit]
