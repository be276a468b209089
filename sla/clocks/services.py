"""Every write to SLA clocks. tickets.services calls ``clocks_apply`` at the end of a write."""

from __future__ import annotations

import enum
from datetime import datetime
from functools import cached_property

from django.db import transaction
from django.utils.translation import gettext as _

from sla.clocks.calendar import clock_start
from sla.clocks.deadlines import (
    PAUSE_NOTE,
    Run,
    counted,
    deadlines,
    instant_reaching,
    spared_by_downgrade,
)
from sla.clocks.escalation import crossed_level
from sla.clocks.selectors import calendar_snapshot_for_ticket, clock_runs, sla_targets_for
from sla.clocks.values import CalendarSnapshot, ClockKind, NeverOpenError
from sla.exceptions import NoSupportHours
from sla.models import Clock, EscalationLevel, Metric, SlaTarget, StopReason
from sla.notifications.services import notifications_cancel_warnings
from sla.policies import targets_in_force
from tickets.history import ticket_event_record
from tickets.models import Message, Ticket, TicketEvent, User, more_urgent


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


def _dump_runs(runs: list[Run]) -> list[list[str | None]]:
    return [[start.isoformat(), end.isoformat() if end else None] for start, end in runs]


def _record(
    clock: Clock, *, actor: User | None, at: datetime, before: str, after: str, note: str = ""
) -> None:
    ticket_event_record(
        ticket_id=clock.ticket_id,
        actor=actor,
        kind=TicketEvent.Kind.CLOCK,
        field=clock.metric,
        before=before,
        after=after,
        note=note,
        at=at,
    )


def _due_note(clock: Clock) -> str:
    return f"due:{clock.due_at.isoformat()}" if clock.due_at else "due:"


def _refresh(clock: Clock, cal: CalendarSnapshot, runs: list[Run], at: datetime) -> None:
    """Recompute due/warn instants from the runs; mark a breach that already happened."""
    times = deadlines(
        cal,
        ClockKind(clock.kind),
        runs,
        clock.target,
        clock.warning_percent,
        clock.escalation_percent,
    )
    clock.due_at = times.due_at
    clock.warn_at = times.warn_at
    clock.escalate_at = times.escalate_at
    clock.runs = _dump_runs(runs)
    if clock.due_at is not None and clock.due_at < at and clock.breached_at is None:
        clock.breached_at = clock.due_at
    elif clock.due_at is not None and clock.due_at >= at:
        clock.breached_at = None


def _start(ticket: Ticket, cal: CalendarSnapshot, at: datetime, actor: User | None) -> None:
    targets = sla_targets_for(ticket)
    for metric in Metric:
        target = targets.get(metric)
        if target is None:
            continue
        kind = ClockKind(target.kind)
        started = clock_start(cal, kind, ticket.received_at)
        clock = Clock(
            ticket=ticket,
            metric=metric,
            kind=kind,
            target=target.duration,
            warning_percent=target.version.policy.warning_percent,
            escalation_percent=target.version.policy.escalation_percent,
            started_at=started,
        )
        _refresh(clock, cal, [(started, None)], at)
        clock.full_clean(exclude=["ticket"])
        clock.save()
        _record(
            clock, actor=actor, at=at, before="", after=Clock.State.RUNNING, note=_due_note(clock)
        )


class _Downgrades:
    """The severities above its current one that a ticket was downgraded from, latest first,
    with their targets: read once per change, and only when a clock is met."""

    def __init__(self, ticket: Ticket) -> None:
        self.ticket = ticket

    @cached_property
    def targets(self) -> list[SlaTarget]:
        current = self.ticket.severity
        changes = TicketEvent.objects.filter(ticket=self.ticket, kind=TicketEvent.Kind.SEVERITY)
        severities: list[str] = []
        for before, after in changes.order_by("-created_at", "-pk").values_list("before", "after"):
            downgrade = more_urgent(before, after)
            if downgrade and more_urgent(before, current) and before not in severities:
                severities.append(before)
        if not severities:
            return []
        policy_id = self.ticket.policy_id_in_force
        received = self.ticket.received_at
        targets = [
            target
            for severity in severities
            for target in targets_in_force(policy_id, severity, received).values()
        ]
        return sorted(targets, key=lambda t: severities.index(t.severity))

    def spared(self, clock: Clock, cal: CalendarSnapshot) -> str:
        """For a clock just met: the severity before the latest downgrade whose target it
        would have missed (see ``spared_by_downgrade``), else ""."""
        if clock.outcome != Clock.Outcome.MET or clock.stopped_at is None or not self.targets:
            return ""
        earlier = [
            (t.severity, ClockKind(t.kind), t.duration)
            for t in self.targets
            if t.metric == clock.metric
        ]
        return spared_by_downgrade(
            cal, self.ticket.received_at, clock_runs(clock), clock.stopped_at, earlier
        )


def _stop(
    clock: Clock,
    cal: CalendarSnapshot,
    at: datetime,
    actor: User | None,
    reason: StopReason,
    message: Message | None,
    downgrades: _Downgrades,
) -> None:
    runs = clock_runs(clock)
    if runs and runs[-1][1] is None:
        runs[-1] = (runs[-1][0], max(at, runs[-1][0]))
    due = instant_reaching(cal, ClockKind(clock.kind), runs, clock.target)
    before = clock.state
    clock.state = Clock.State.STOPPED
    clock.stopped_at = at
    clock.elapsed = counted(cal, ClockKind(clock.kind), runs, at)
    clock.runs = _dump_runs(runs)
    clock.due_at = due or clock.due_at  # unreached: keep the promise as it stood
    clock.warn_at = None
    clock.escalate_at = None
    if due is not None and due < at:
        clock.breached_at = clock.breached_at or due
    clock.outcome = Clock.Outcome.BREACHED if clock.breached_at else Clock.Outcome.MET
    clock.spared_from = downgrades.spared(clock, cal)
    clock.stop_reason = reason
    clock.stop_message = message
    clock.save(
        update_fields=[
            "state",
            "stopped_at",
            "elapsed_seconds",
            "runs",
            "due_at",
            "warn_at",
            "escalate_at",
            "breached_at",
            "outcome",
            "spared_from",
            "stop_reason",
            "stop_message",
        ]
    )
    _record(clock, actor=actor, at=at, before=before, after=f"stopped:{clock.outcome}", note=reason)
    # An acknowledgement or a resolution makes the warnings not yet mailed pointless.
    notifications_cancel_warnings(clock=clock)


def _pause(
    clock: Clock, cal: CalendarSnapshot, at: datetime, actor: User | None, reason: str = ""
) -> None:
    runs = clock_runs(clock)
    runs[-1] = (runs[-1][0], max(at, runs[-1][0]))
    clock.state = Clock.State.PAUSED
    _refresh(clock, cal, runs, at)
    clock.save(update_fields=["state", "runs", "due_at", "warn_at", "escalate_at", "breached_at"])
    note = f"{PAUSE_NOTE}{reason}" if reason else ""
    _record(
        clock, actor=actor, at=at, before=Clock.State.RUNNING, after=Clock.State.PAUSED, note=note
    )


def _paused_metrics(ticket: Ticket, change: ClockChange) -> set[str]:
    """The clocks a status pauses: waiting on the customer the correction; on hold, those its
    reason names; any other open status none (SLA-RULES.md, "Pause reasons")."""
    if change is ClockChange.WAITING:
        return {Metric.CORRECTION}
    reason = ticket.pause_reason if change is ClockChange.HELD else None
    return {m for m in Metric if reason is not None and reason.pauses(m)}


def _pause_as_status_says(
    ticket: Ticket,
    clocks: dict[str, Clock],
    cal: CalendarSnapshot,
    change: ClockChange,
    at: datetime,
    actor: User | None,
) -> None:
    paused = _paused_metrics(ticket, change)
    reason = ticket.pause_reason.slug if change is ClockChange.HELD and ticket.pause_reason else ""
    for metric, clock in sorted(clocks.items()):
        if clock.state == Clock.State.RUNNING and metric in paused:
            _pause(clock, cal, at, actor, reason)
        elif clock.state == Clock.State.PAUSED and metric not in paused:
            _resume(clock, cal, at, actor)


def _resume(clock: Clock, cal: CalendarSnapshot, at: datetime, actor: User | None) -> None:
    before = clock.state
    runs = clock_runs(clock)
    # A clock paused before its start (arrival outside hours) resumes no earlier than it.
    runs.append((max(at, clock.started_at), None))
    reopened = clock.state == Clock.State.STOPPED
    if reopened:
        clock.cycle += 1
        clock.stopped_at = None
        clock.elapsed = None
        clock.outcome = ""
        clock.spared_from = ""
        clock.stop_reason = ""
        clock.stop_message = None
    clock.state = Clock.State.RUNNING
    _refresh(clock, cal, runs, at)
    if reopened:
        # A new cycle fires for new instants only: thresholds already behind it stay handled.
        clock.escalation_level = crossed_level(clock, at)
    clock.save(
        update_fields=[
            "state",
            "runs",
            "due_at",
            "warn_at",
            "escalate_at",
            "breached_at",
            "cycle",
            "stopped_at",
            "elapsed_seconds",
            "outcome",
            "spared_from",
            "stop_reason",
            "stop_message",
            "escalation_level",
        ]
    )
    _record(
        clock, actor=actor, at=at, before=before, after=Clock.State.RUNNING, note=_due_note(clock)
    )


def _from_original_start(ticket: Ticket, clock: Clock, cal: CalendarSnapshot) -> list[Run]:
    """The clock's runs, the first starting where its (new) kind starts counting: a wall clock
    at arrival, the business kinds at the next opening."""
    runs = clock_runs(clock)
    start = clock_start(cal, ClockKind(clock.kind), ticket.received_at)
    # The first run begins where the kind starts counting (earlier for a wall clock, later when
    # a closure moved the opening); nothing counts before that: runs wholly before it go, and
    # one under way at it begins there (a clock paused before its start).
    runs[0] = (start, runs[0][1])
    kept = [(max(s, start), e) for s, e in runs if e is None or e > start]
    if not kept:  # paused before it ever started, still paused
        kept = [(start, start)]
    clock.started_at = start
    clock.runs = _dump_runs(kept)
    return kept


def _recount_stopped(
    clock: Clock, cal: CalendarSnapshot, runs: list[Run], downgrades: _Downgrades
) -> None:
    """A stopped clock under its new target: the promise as if the clock had gone on from its
    last counted instant, kept or not, and the time it counted, in its new kind. A clock
    stopped while paused (resolved while waiting on the customer) goes on from its stop: the
    wait still does not count."""
    last_start, last_end = runs[-1]
    if last_end is not None and clock.stopped_at is not None and last_end < clock.stopped_at:
        going_on = [*runs, (clock.stopped_at, None)]
    else:
        going_on = [*runs[:-1], (last_start, None)]
    due = instant_reaching(cal, ClockKind(clock.kind), going_on, clock.target)
    clock.due_at = due
    clock.breached_at = (
        due if due is not None and clock.stopped_at and due < clock.stopped_at else None
    )
    clock.outcome = Clock.Outcome.BREACHED if clock.breached_at else Clock.Outcome.MET
    if clock.stopped_at is not None:
        clock.elapsed = counted(cal, ClockKind(clock.kind), runs, clock.stopped_at)
    clock.spared_from = downgrades.spared(clock, cal)


_RECOMPUTED_FIELDS = [
    "kind",
    "escalation_percent",
    "escalate_at",
    "cycle",
    "started_at",
    "runs",
    "target",
    "warning_percent",
    "due_at",
    "warn_at",
    "breached_at",
    "outcome",
    "spared_from",
    "elapsed_seconds",
    "escalation_level",
]


def _recompute(
    ticket: Ticket,
    clock: Clock,
    cal: CalendarSnapshot,
    at: datetime,
    actor: User | None,
    downgrades: _Downgrades,
) -> None:
    """The clock under the targets of the ticket's new severity, from its original start and
    keeping its pauses (SLA-RULES.md)."""
    target = sla_targets_for(ticket).get(clock.metric)
    if target is None:
        return
    before = _due_note(clock)
    clock.kind = target.kind
    clock.target = target.duration
    clock.warning_percent = target.version.policy.warning_percent
    clock.escalation_percent = target.version.policy.escalation_percent
    runs = _from_original_start(ticket, clock, cal)
    if clock.state == Clock.State.STOPPED:
        _recount_stopped(clock, cal, runs, downgrades)
    else:
        clock.breached_at = None
        _refresh(clock, cal, runs, at)
    # New targets, new instants: every level may fire again, once, in a new cycle.
    clock.escalation_level = EscalationLevel.NONE
    clock.cycle += 1
    clock.save(update_fields=_RECOMPUTED_FIELDS)
    _record(
        clock,
        actor=actor,
        at=at,
        before=before,
        after=_due_note(clock),
        note=f"severity {ticket.severity}",
    )


@transaction.atomic
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
    cal = calendar_snapshot_for_ticket(ticket)
    try:
        if change is ClockChange.RECEIVED:
            _start(ticket, cal, at, actor)
        else:
            _change(ticket, cal, change, at, actor, reason, message)
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
    cal: CalendarSnapshot,
    change: ClockChange,
    at: datetime,
    actor: User | None,
    reason: StopReason,
    message: Message | None,
) -> None:
    clocks = {c.metric: c for c in Clock.objects.select_for_update().filter(ticket=ticket)}
    downgrades = _Downgrades(ticket)
    ack = clocks.get(Metric.ACKNOWLEDGEMENT)
    correction = clocks.get(Metric.CORRECTION)
    running = Clock.State.RUNNING
    if change is ClockChange.ACKNOWLEDGED:
        if ack is not None and ack.state == running:
            _stop(ack, cal, at, actor, reason, message, downgrades)
    elif change in (ClockChange.WAITING, ClockChange.HELD, ClockChange.RESUMED):
        _pause_as_status_says(ticket, clocks, cal, change, at, actor)
    elif change is ClockChange.RESOLVED:
        for clock in (ack, correction):
            if clock is not None and clock.state != Clock.State.STOPPED:
                _stop(clock, cal, at, actor, reason, message, downgrades)
    elif change is ClockChange.REOPENED:
        if correction is not None and correction.state != running:
            _resume(correction, cal, at, actor)
    elif change is ClockChange.RECLASSIFIED:
        for clock in (ack, correction):
            if clock is not None:
                _recompute(ticket, clock, cal, at, actor, downgrades)
