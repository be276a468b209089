"""The moves of one SLA clock (start, pause, resume, stop, count again), each saving the clock
and writing its history. ``sla.clocks.services`` decides which moves a ticket change makes."""

from __future__ import annotations

from datetime import datetime
from functools import cached_property

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
from sla.clocks.selectors import clock_runs
from sla.clocks.values import CalendarSnapshot, ClockKind
from sla.models import Clock, EscalationLevel, SlaTarget, StopReason
from sla.notifications.services import notifications_cancel_warnings
from sla.policies import targets_in_force
from tickets.history import ticket_event_record
from tickets.models import Message, Ticket, TicketEvent, User, more_urgent


def dump_runs(runs: list[Run]) -> list[list[str | None]]:
    return [[start.isoformat(), end.isoformat() if end else None] for start, end in runs]


def clock_record(
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


def due_note(clock: Clock) -> str:
    return f"due:{clock.due_at.isoformat()}" if clock.due_at else "due:"


def refresh(clock: Clock, cal: CalendarSnapshot, runs: list[Run], at: datetime) -> None:
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
    clock.runs = dump_runs(runs)
    if clock.due_at is not None and clock.due_at < at and clock.breached_at is None:
        clock.breached_at = clock.due_at
    elif clock.due_at is not None and clock.due_at >= at:
        clock.breached_at = None


class Downgrades:
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
        return spared_by_downgrade(cal, clock.origin, clock_runs(clock), clock.stopped_at, earlier)


def stop(
    clock: Clock,
    cal: CalendarSnapshot,
    at: datetime,
    actor: User | None,
    reason: StopReason,
    message: Message | None,
    downgrades: Downgrades,
) -> None:
    runs = clock_runs(clock)
    if runs and runs[-1][1] is None:
        runs[-1] = (runs[-1][0], max(at, runs[-1][0]))
    due = instant_reaching(cal, ClockKind(clock.kind), runs, clock.target)
    before = clock.state
    clock.state = Clock.State.STOPPED
    clock.stopped_at = at
    clock.elapsed = counted(cal, ClockKind(clock.kind), runs, at)
    clock.runs = dump_runs(runs)
    clock.due_at = due or clock.due_at  # unreached: keep the promise as it stood
    clock.warn_at = None
    clock.escalate_at = None
    if due is not None and due < at:
        clock.breached_at = clock.breached_at or due
    else:  # kept: stopped by its due instant (a call logged later with its own earlier time)
        clock.breached_at = None
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
    clock_record(
        clock, actor=actor, at=at, before=before, after=f"stopped:{clock.outcome}", note=reason
    )
    # An acknowledgement or a resolution makes the warnings not yet mailed pointless.
    notifications_cancel_warnings(clock=clock)


def pause(
    clock: Clock, cal: CalendarSnapshot, at: datetime, actor: User | None, reason: str = ""
) -> None:
    runs = clock_runs(clock)
    runs[-1] = (runs[-1][0], max(at, runs[-1][0]))
    clock.state = Clock.State.PAUSED
    refresh(clock, cal, runs, at)
    clock.save(update_fields=["state", "runs", "due_at", "warn_at", "escalate_at", "breached_at"])
    note = f"{PAUSE_NOTE}{reason}" if reason else ""
    clock_record(
        clock, actor=actor, at=at, before=Clock.State.RUNNING, after=Clock.State.PAUSED, note=note
    )


def resume(clock: Clock, cal: CalendarSnapshot, at: datetime, actor: User | None) -> None:
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
    refresh(clock, cal, runs, at)
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
    clock_record(
        clock, actor=actor, at=at, before=before, after=Clock.State.RUNNING, note=due_note(clock)
    )


def from_original_start(clock: Clock, cal: CalendarSnapshot) -> list[Run]:
    """The clock's runs, the first starting where its (new) kind starts counting: a wall clock
    at arrival, the business kinds at the next opening."""
    runs = clock_runs(clock)
    start = clock_start(cal, ClockKind(clock.kind), clock.origin)
    # A first run that began at the clock's start begins where the kind starts counting now
    # (earlier for a wall clock, later when a closure moved the opening). One that began later
    # (a round that started paused, or from a reopen) keeps its instant: that was a resume.
    # Nothing counts before the start: runs wholly before it go, and one under way at it
    # begins there (a clock paused before its start).
    if runs[0][0] <= clock.started_at:
        runs[0] = (start, runs[0][1])
    kept = [(max(s, start), e) for s, e in runs if e is None or e > start]
    if not kept:  # paused before it ever started, still paused
        kept = [(start, start)]
    clock.started_at = start
    clock.runs = dump_runs(kept)
    return kept


def recount_stopped(
    clock: Clock, cal: CalendarSnapshot, runs: list[Run], downgrades: Downgrades
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


RECOMPUTED_FIELDS = [
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


def recompute(
    ticket: Ticket,
    clock: Clock,
    target: SlaTarget,
    cal: CalendarSnapshot,
    at: datetime,
    actor: User | None,
    downgrades: Downgrades,
) -> None:
    """The clock under ``target``, its ticket's new severity's, from its original start and
    keeping its pauses (SLA-RULES.md)."""
    before = due_note(clock)
    clock.kind = target.kind
    clock.target = target.duration
    clock.warning_percent = target.version.policy.warning_percent
    clock.escalation_percent = target.version.policy.escalation_percent
    runs = from_original_start(clock, cal)
    if clock.state == Clock.State.STOPPED:
        recount_stopped(clock, cal, runs, downgrades)
    else:
        clock.breached_at = None
        refresh(clock, cal, runs, at)
    # New targets, new instants: every level may fire again, once, in a new cycle.
    clock.escalation_level = EscalationLevel.NONE
    clock.cycle += 1
    clock.save(update_fields=RECOMPUTED_FIELDS)
    if due_note(clock) == before and clock.state == Clock.State.STOPPED:
        return  # an answered round, or a stopped clock, whose promise did not move: no news
    clock_record(
        clock,
        actor=actor,
        at=at,
        before=before,
        after=due_note(clock),
        note=f"severity {ticket.severity}",
    )


def begin(
    ticket: Ticket,
    metric: str,
    target: SlaTarget,
    cal: CalendarSnapshot,
    at: datetime,
    actor: User | None,
    *,
    origin: datetime | None = None,
    number: int = 1,
    runs: list[Run] | None = None,
    paused_for: str = "",
) -> Clock:
    """A new clock (or round) of ``metric`` for the promise it answers at ``origin`` (the
    ticket's arrival when None); counted from where its kind starts counting then, or along
    ``runs`` (a promise gained by a reclassification keeps the pauses it would have had).
    ``paused_for`` names the hold reason of a clock that starts paused."""
    kind = ClockKind(target.kind)
    started = clock_start(cal, kind, origin or ticket.received_at)
    clock = Clock(
        ticket=ticket,
        metric=metric,
        round=number,
        origin_at=origin,
        kind=kind,
        target=target.duration,
        warning_percent=target.version.policy.warning_percent,
        escalation_percent=target.version.policy.escalation_percent,
        started_at=started,
    )
    if runs:
        paused = runs[-1][1] is not None
        kept = [(max(start, started), end) for start, end in runs if end is None or end > started]
        runs = kept or [(started, started if paused else None)]
    else:
        runs = [(started, None)]
    if runs[-1][1] is not None:
        clock.state = Clock.State.PAUSED
    refresh(clock, cal, runs, at)
    clock.full_clean(exclude=["ticket"])
    clock.save()
    paused = clock.state == Clock.State.PAUSED
    note = f"{PAUSE_NOTE}{paused_for}" if paused and paused_for else due_note(clock)
    clock_record(clock, actor=actor, at=at, before="", after=clock.state, note=note)
    return clock
