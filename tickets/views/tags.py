"""An agent sets a ticket's tags (tickets.services.tags)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tickets.exceptions import TicketError
from tickets.services.tags import ticket_set_tags
from tickets.views.common import staff_user
from tickets.views.desk import worked_ticket


@login_required
@require_POST
def ticket_tags(request: HttpRequest, reference: str) -> HttpResponse:
    user = staff_user(request)
    ticket = worked_ticket(request, reference)
    try:
        ticket_set_tags(ticket=ticket, actor=user, text=request.POST.get("tags", ""))
    except TicketError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Tags saved."))
    return redirect("tickets:detail", reference=ticket.reference)
