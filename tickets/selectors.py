"""Reads of the tickets app. Visibility always comes from tickets.access."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import (
    Case,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Value,
    When,
)

from sla.calendar import CalendarSnapshot, ClockKind, elapsed
from sla.models import Calendar, Clock, Metric
from sla.selectors import calendar_snapshot
from tickets import access
from tickets.models import OPEN_STATUSES, Attachment, Message, Severity, Ticket, TicketEvent, User

SEVERITY_RANK = Case(
    When(severity=Severity.BLOCKING, then=Value(0)),
    When(severity=Severity.MAJOR, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


def _with_deadlines(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """Annotate each ticket with its clocks' due instants (one subquery each, no N+1)."""
    clocks = Clock.objects.filter(ticket=OuterRef("pk"))
    return tickets.annotate(
        ack_due=Subquery(clocks.filter(metric=Metric.ACKNOWLEDGEMENT).values("due_at")[:1]),
        ack_state=Subquery(clocks.filter(metric=Metric.ACKNOWLEDGEMENT).values("state")[:1]),
        correction_due=Subquery(clocks.filter(metric=Metric.CORRECTION).values("due_at")[:1]),
        correction_state=Subquery(clocks.filter(metric=Metric.CORRECTION).values("state")[:1]),
    )


def ticket_queue_for_agent(user: User) -> QuerySet[Ticket]:
    """Open tickets of the agent's desks, nearest deadline first."""
    tickets = access.visible_tickets(user).filter(status__in=OPEN_STATUSES)
    return tickets.select_related("organization", "requester", "desk", "assignee").order_by(
        F("sla_due_at").asc(nulls_last=True), SEVERITY_RANK, "received_at"
    )


def ticket_queue_page_related(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """What a queue row needs besides the ticket: its clocks and its desk's calendar."""
    return tickets.select_related("desk__calendar").prefetch_related(
        Prefetch("clocks", queryset=Clock.objects.order_by("due_at")),
        "desk__calendar__intervals",
        "desk__calendar__closures",
        "desk__calendar__extra_openings",
    )


class BadgeState:
    OK = "ok"
    WARNING = "warning"
    BREACHED = "breached"
    PAUSED = "paused"
    NONE = "none"


@dataclass(frozen=True)
class SlaBadge:
    """The promise a queue row shows: the nearest counting clock, its time left or overdue,
    counted the way that clock counts (calendar time, business hours or business days)."""

    state: str
    clock: Clock | None = None
    remaining: timedelta | None = None  # time left, or overdue by when state is breached

    @property
    def kind(self) -> str:
        return self.clock.kind if self.clock else ""


@dataclass(frozen=True)
class QueueRow:
    ticket: Ticket
    badge: SlaBadge


def _badge(clocks: Sequence[Clock], cal: CalendarSnapshot, now: datetime) -> SlaBadge:
    counting = [c for c in clocks if c.state != Clock.State.STOPPED and c.due_at is not None]
    running = [c for c in counting if c.state == Clock.State.RUNNING]
    if not running:
        paused = counting[0] if counting else None
        return SlaBadge(BadgeState.PAUSED if paused else BadgeState.NONE, clock=paused)
    clock = min(running, key=lambda c: c.due_at or now)
    assert clock.due_at is not None
    kind = ClockKind(clock.kind)
    if clock.due_at <= now or clock.breached_at is not None:
        return SlaBadge(BadgeState.BREACHED, clock, elapsed(cal, kind, clock.due_at, now))
    state = (
        BadgeState.WARNING if clock.warn_at is not None and clock.warn_at <= now else BadgeState.OK
    )
    return SlaBadge(state, clock, elapsed(cal, kind, now, clock.due_at))


def queue_rows(tickets: Sequence[Ticket], *, now: datetime) -> list[QueueRow]:
    """Rows of a queue page (tickets from `ticket_queue_page_related`), each with its badge."""
    snapshots: dict[int, CalendarSnapshot] = {}
    rows = []
    for ticket in tickets:
        calendar: Calendar = ticket.desk.calendar
        if calendar.pk not in snapshots:
            snapshots[calendar.pk] = calendar_snapshot(calendar)
        badge = _badge(list(ticket.clocks.all()), snapshots[calendar.pk], now)
        rows.append(QueueRow(ticket=ticket, badge=badge))
    return rows


def ticket_list_for_customer(user: User) -> QuerySet[Ticket]:
    return (
        _with_deadlines(access.visible_tickets(user))
        .select_related("requester", "assignee")
        .order_by("-received_at")
    )


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    message: Message | None = None
    event: TicketEvent | None = None


def ticket_timeline(user: User, ticket: Ticket) -> list[TimelineEntry]:
    """Messages and history of a ticket in time order, as the user may see them."""
    messages = (
        access.visible_messages(user, ticket)
        .select_related("author", "author_contact")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
    )
    entries = [TimelineEntry(at=m.received_at, message=m) for m in messages]
    events = TicketEvent.objects.filter(ticket=ticket).select_related("actor")
    if not access.is_staff_member(user):
        events = events.exclude(
            kind__in=[
                TicketEvent.Kind.NOTE,
                TicketEvent.Kind.ASSIGNEE,
                TicketEvent.Kind.CLOCK,
                TicketEvent.Kind.ESCALATION,
            ]
        )
    entries += [
        TimelineEntry(at=e.created_at, event=e)
        for e in events
        if e.kind not in (TicketEvent.Kind.MESSAGE, TicketEvent.Kind.NOTE)
    ]
    return sorted(entries, key=lambda entry: (entry.at, entry.event is not None))


def ticket_clocks(ticket: Ticket) -> list[Clock]:
    return list(Clock.objects.filter(ticket=ticket).order_by("metric"))
