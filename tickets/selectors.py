"""Reads of the tickets app. Visibility always comes from tickets.access."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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

from sla.models import Clock, Metric
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
