"""A ticket's life after it is opened: status (and acknowledgement), assignee, severity, and
the bulk form of these; the status change drives the SLA clocks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sla.clocks.services import ClockChange, clocks_apply
from sla.exceptions import SlaError
from sla.models import PauseReason, StopReason
from tickets import access
from tickets.exceptions import InvalidTransition, PermissionDeniedError, TicketError
from tickets.history import ticket_event_record
from tickets.models import (
    OPEN_STATUSES,
    Channel,
    Message,
    Severity,
    Status,
    SystemNote,
    Ticket,
    TicketEvent,
    TicketTriage,
    User,
)
from tickets.services import customer_mail
from tickets.triage.services import triage_review
from tickets.workflow import CUSTOMER_TARGETS, can_transition


def apply_clocks(
    *,
    ticket: Ticket,
    change: ClockChange,
    at: datetime,
    actor: User | None,
    reason: StopReason = StopReason.RESOLVED,
    message: Message | None = None,
) -> None:
    """sla's one hook (``clocks_apply``), called at the end of a ticket write. What the SLA
    rules refuse (a desk whose calendar has no support hours) is the write's own refusal: a
    TicketError with the same message and field, which every caller of a ticket service shows."""
    try:
        clocks_apply(
            ticket=ticket, change=change, at=at, actor=actor, reason=reason, message=message
        )
    except SlaError as error:
        raise TicketError(error.message, field=error.field) from error


def _change_field(
    ticket: Ticket,
    field: str,
    value: object,
    *,
    kind: TicketEvent.Kind,
    actor: User | None,
    at: datetime,
    before: str,
    after: str,
    note: str = "",
) -> None:
    """Set one field of the ticket and write its history event (before → after)."""
    setattr(ticket, field, value)
    ticket.updated_at = at
    ticket.save(update_fields=[field, "updated_at"])
    ticket_event_record(
        ticket_id=ticket.pk,
        actor=actor,
        kind=kind,
        at=at,
        field=field,
        before=before,
        after=after,
        note=note,
    )


def set_status(
    ticket: Ticket,
    status: Status,
    *,
    actor: User | None,
    at: datetime,
    note: str = "",
    message: Message | None = None,
    notify: bool = True,
) -> None:
    before = ticket.status
    _change_field(
        ticket,
        "status",
        status,
        kind=TicketEvent.Kind.STATUS,
        actor=actor,
        at=at,
        before=before,
        after=status,
        note=note,
    )
    if status not in OPEN_STATUSES:  # out of the queue: no flag left to count on every page
        TicketTriage.objects.filter(ticket=ticket, flagged=True).update(flagged=False)
    change = _clock_change_for(Status(before), status)
    if change is not None:
        apply_clocks(
            ticket=ticket,
            change=change,
            at=at,
            actor=actor,
            reason=_stop_reason(status, message),
            message=message,
        )
    if notify and message is None and actor is not None and access.is_staff_member(actor):
        # The customer hears of what support did; a reply already says it in its own mail.
        customer_mail.mail_status_changed(ticket=ticket, before=Status(before), actor=actor)


def _stop_reason(status: Status, message: Message | None) -> StopReason:
    """The qualifying event, should this status change stop a clock."""
    if message is not None:
        return (
            StopReason.PHONE_CALL if message.channel == Channel.PHONE else StopReason.PUBLIC_REPLY
        )
    if status == Status.ACKNOWLEDGED:
        return StopReason.ACKNOWLEDGE
    return StopReason.CLOSED if status == Status.CLOSED else StopReason.RESOLVED


def _clock_change_for(before: Status, after: Status) -> ClockChange | None:
    if after == Status.ACKNOWLEDGED:
        return ClockChange.ACKNOWLEDGED
    if after == Status.WAITING_ON_CUSTOMER:
        return ClockChange.WAITING
    if after == Status.ON_HOLD:
        return ClockChange.HELD
    if after in (Status.RESOLVED, Status.CLOSED):
        return ClockChange.RESOLVED
    if after == Status.IN_PROGRESS and before in (Status.RESOLVED, Status.CLOSED):
        return ClockChange.REOPENED
    if after == Status.IN_PROGRESS and before in (Status.WAITING_ON_CUSTOMER, Status.ON_HOLD):
        return ClockChange.RESUMED
    return None


@transaction.atomic
def ticket_change_status(
    *,
    ticket: Ticket,
    actor: User,
    status: str,
    note: str = "",
    at: datetime | None = None,
    pause_reason: str = "",
) -> Ticket:
    """Move a ticket along the workflow; `at` (default now) dates a change that happened a
    little earlier, such as an acknowledgement given during a phone call logged afterwards.
    On hold takes a pause reason of the ticket's policy (its slug), which decides the clocks
    that pause."""
    if status not in Status.values:
        raise TicketError(_("Unknown status: %(value)s.") % {"value": status}, field="status")
    ticket = Ticket.objects.select_for_update(of=("self",)).select_related("desk").get(pk=ticket.pk)
    customer_may = access.owns_as_customer(actor, ticket) and status in CUSTOMER_TARGETS
    if not access.can_work(actor, ticket) and not customer_may:
        raise PermissionDeniedError(_("You may not change the status of this ticket."))
    if not can_transition(ticket.status, status):
        raise InvalidTransition(
            _("A ticket that is %(before)s cannot become %(after)s.")
            % {"before": Status(ticket.status).label, "after": Status(status).label},
            field="status",
        )
    now = timezone.now()
    if at is None or at > now:
        at = now
    elif at < ticket.received_at:
        raise TicketError(_("A change cannot predate the ticket."), field="at")
    _hold_for(ticket, status, pause_reason)
    set_status(ticket, Status(status), actor=actor, at=at, note=note)
    return ticket


def _hold_for(ticket: Ticket, status: str, slug: str) -> None:
    """Set (on hold) or clear the ticket's pause reason, before its status and clocks move."""
    reason = None
    if status == Status.ON_HOLD:
        reason = PauseReason.objects.filter(policy_id=ticket.policy_id_in_force, slug=slug).first()
        if reason is None:
            raise TicketError(_("Choose why the ticket is on hold."), field="pause_reason")
    if ticket.pause_reason_id != (reason.pk if reason else None):
        ticket.pause_reason = reason
        ticket.save(update_fields=["pause_reason"])


def ticket_acknowledge(*, ticket: Ticket, actor: User, at: datetime | None = None) -> Ticket:
    """Explicit acknowledgement: stops the acknowledgement clock (at `at`, default now)."""
    return ticket_change_status(
        ticket=ticket,
        actor=actor,
        status=Status.ACKNOWLEDGED,
        note=SystemNote.ACKNOWLEDGED,
        at=at,
    )


@transaction.atomic
def ticket_assign(*, ticket: Ticket, actor: User, assignee: User | None) -> Ticket:
    ticket = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("desk", "assignee")
        .get(pk=ticket.pk)
    )
    if not access.can_work(actor, ticket):
        raise PermissionDeniedError(_("You may not assign this ticket."))
    if (
        assignee is not None
        and not access.assignable_agents(ticket).filter(pk=assignee.pk).exists()
    ):
        raise TicketError(
            _("%(name)s does not work on the %(desk)s desk.")
            % {
                "name": assignee.get_full_name() or assignee.get_username(),
                "desk": ticket.desk.name,
            },
            field="assignee",
        )
    if ticket.assignee_id == (assignee.pk if assignee else None):
        return ticket
    _change_field(
        ticket,
        "assignee",
        assignee,
        kind=TicketEvent.Kind.ASSIGNEE,
        actor=actor,
        at=timezone.now(),
        before=ticket.assignee.get_username() if ticket.assignee else "",
        after=assignee.get_username() if assignee else "",
    )
    return ticket


@transaction.atomic
def ticket_reclassify(*, ticket: Ticket, actor: User, severity: str, reason: str) -> Ticket:
    """Change the severity with a reason; both clocks are recomputed from the original start."""
    if severity not in Severity.values:
        raise TicketError(_("Unknown severity: %(value)s.") % {"value": severity}, field="severity")
    if not reason.strip():
        raise TicketError(_("Please give the reason for the change."), field="reason")
    ticket = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("desk", "organization")
        .get(pk=ticket.pk)
    )
    if not access.can_work(actor, ticket):
        raise PermissionDeniedError(_("You may not reclassify this ticket."))
    if ticket.severity == severity:
        raise TicketError(
            _("The ticket is already %(severity)s: choose another severity.")
            % {"severity": Severity(severity).label},
            field="severity",
        )
    now = timezone.now()
    _change_field(
        ticket,
        "severity",
        severity,
        kind=TicketEvent.Kind.SEVERITY,
        actor=actor,
        at=now,
        before=ticket.severity,
        after=severity,
        note=reason.strip(),
    )
    apply_clocks(ticket=ticket, change=ClockChange.RECLASSIFIED, at=now, actor=actor)
    triage_review(ticket, actor, at=now)  # an agent's word on the severity: a training example
    return ticket


@transaction.atomic
def tickets_bulk_update(
    *,
    tickets: Sequence[Ticket],
    actor: User,
    assignee: User | None = None,
    unassign: bool = False,
    status: str = "",
) -> int:
    """Assign and/or change the status of several tickets, all or none: the first refusal
    (named with its ticket's reference) rolls every change back. Returns the tickets changed."""
    if not tickets:
        raise TicketError(_("Select at least one ticket."), field="tickets")
    if not status and assignee is None and not unassign:
        raise TicketError(_("Choose an assignee or a status."), field="action")
    for ticket in tickets:
        try:
            if assignee is not None or unassign:
                ticket_assign(ticket=ticket, actor=actor, assignee=assignee)
            if status:
                ticket_change_status(ticket=ticket, actor=actor, status=status)
        except TicketError as error:
            raise type(error)(
                _("%(ref)s: %(error)s Nothing was changed.")
                % {"ref": ticket.reference, "error": error.message},
                field=error.field,
            ) from error
    return len(tickets)
