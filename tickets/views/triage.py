"""Severity triage on the agent's ticket page: confirm the severity, or take the suggestion,
in one click each (tickets.triage)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tickets import services
from tickets.exceptions import TicketError
from tickets.models import Severity, TicketTriage
from tickets.triage.services import severity_confirm
from tickets.views.common import current_user
from tickets.views.desk import worked_ticket


@login_required
@require_POST
def ticket_severity_confirm(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = worked_ticket(request, reference)
    try:
        severity_confirm(ticket=ticket, actor=current_user(request))
    except TicketError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("Severity confirmed: %(severity)s.") % {"severity": ticket.get_severity_display()},
        )
    return redirect("tickets:detail", reference=ticket.reference)


@login_required
@require_POST
def ticket_severity_suggested(request: HttpRequest, reference: str) -> HttpResponse:
    """Reclassify to the suggested severity, its reason written for the agent; the clocks are
    recomputed as for any reclassification."""
    ticket = worked_ticket(request, reference)
    triage = TicketTriage.objects.filter(ticket=ticket).first()
    if triage is None or triage.suggested == ticket.severity:
        messages.error(request, _("There is no other suggested severity to take."))
        return redirect("tickets:detail", reference=ticket.reference)
    # The customer reads a reclassification's reason: the classifier stays a staff matter
    # (the history's triage line keeps the confidence).
    reason = _("The severity was reviewed against the description of the incident.")
    try:
        services.ticket_reclassify(
            ticket=ticket, actor=current_user(request), severity=triage.suggested, reason=reason
        )
    except TicketError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("Severity changed to %(severity)s; the deadlines are recomputed.")
            % {"severity": Severity(triage.suggested).label},
        )
    return redirect("tickets:detail", reference=ticket.reference)
