"""A resolved ticket's second chance: its customer may reopen it for PACTE_REOPEN_DAYS after
it was resolved (a button, or simply replying); then it closes, and the customer's next word
opens a new ticket (a mail does so by itself; the page says so)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from tickets import access
from tickets.exceptions import InvalidTransition, PermissionDeniedError
from tickets.models import Status, SystemNote, Ticket, TicketEvent, User
from tickets.services.lifecycle import set_status


def _window() -> timedelta:
    return timedelta(days=settings.PACTE_REOPEN_DAYS)


def _resolutions() -> Subquery:
    """When each ticket was last resolved (its history's last status change to resolved)."""
    resolved = TicketEvent.objects.filter(
        ticket=OuterRef("pk"), kind=TicketEvent.Kind.STATUS, after=Status.RESOLVED
    ).order_by("-created_at", "-pk")
    return Subquery(resolved.values("created_at")[:1])


def reopen_until(ticket: Ticket) -> datetime | None:
    """Until when the customer may reopen the ticket: None unless it is resolved."""
    if ticket.status != Status.RESOLVED:
        return None
    resolved = (
        TicketEvent.objects.filter(
            ticket=ticket, kind=TicketEvent.Kind.STATUS, after=Status.RESOLVED
        )
        .order_by("-created_at", "-pk")
        .values_list("created_at", flat=True)
        .first()
    )
    return (resolved or ticket.updated_at) + _window()


def reopen_window(ticket: Ticket, now: datetime | None = None) -> tuple[bool, datetime | None]:
    """Whether the customer's word no longer goes on this ticket (closed, or resolved longer
    ago than the reopening window, the sweep closing it not passed yet), and until when a
    resolved one may be reopened (its history read once)."""
    if ticket.status == Status.CLOSED:
        return True, None
    until = reopen_until(ticket)
    return until is not None and until <= (now or timezone.now()), until


def closed_to_customer(ticket: Ticket, now: datetime | None = None) -> bool:
    return reopen_window(ticket, now)[0]


def reopen_refusal(ticket: Ticket, until: datetime | None = None) -> str:
    """Why the customer's word no longer goes on the ticket (``until``: its window, if read)."""
    until = until or reopen_until(ticket)
    if until is None:
        return _("This ticket is closed. Open a new ticket if the problem comes back.")
    return _(
        "This ticket was resolved over %(days)d days ago (it could be reopened until %(date)s):"
        " open a new ticket if the problem comes back."
    ) % {
        "days": settings.PACTE_REOPEN_DAYS,
        "date": formats.date_format(timezone.localtime(until), "DATETIME_FORMAT"),
    }


@transaction.atomic
def ticket_reopen(*, ticket: Ticket, actor: User) -> Ticket:
    """The customer reopens their resolved ticket, within the window: back to work."""
    ticket = Ticket.objects.select_for_update(of=("self",)).select_related("desk").get(pk=ticket.pk)
    if not access.owns_as_customer(actor, ticket) and not access.can_work(actor, ticket):
        raise PermissionDeniedError(_("You may not reopen this ticket."))
    if ticket.status != Status.RESOLVED or closed_to_customer(ticket):
        raise InvalidTransition(reopen_refusal(ticket), field="status")
    set_status(
        ticket,
        Status.IN_PROGRESS,
        actor=actor,
        at=timezone.now(),
        note=SystemNote.REOPENED_BY_CUSTOMER,
        notify=False,
    )
    return ticket


def tickets_close_resolved(*, now: datetime, limit: int = 1000) -> int:
    """Close the tickets resolved longer ago than the window (a beat task); how many."""
    due = (
        Ticket.objects.filter(status=Status.RESOLVED)
        .annotate(resolved=Coalesce(_resolutions(), "updated_at"))
        .filter(resolved__lte=now - _window())
        .values_list("pk", flat=True)[:limit]
    )
    closed = 0
    for pk in list(due):
        with transaction.atomic():
            ticket = Ticket.objects.select_for_update(of=("self",)).get(pk=pk)
            if ticket.status != Status.RESOLVED or not closed_to_customer(ticket, now):
                continue  # reopened (and maybe resolved again) meanwhile
            set_status(
                ticket, Status.CLOSED, actor=None, at=now, note=SystemNote.CLOSED_AFTER_RESOLUTION
            )
            closed += 1
    return closed
