"""Agent pages: the queue of the agent's desks and the working view of a ticket."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sla.selectors import clocks_counted
from tickets import access, selectors, services
from tickets.exceptions import TicketError
from tickets.forms import AssignForm, ReclassifyForm, ReplyForm, StatusForm
from tickets.models import Status, Ticket
from tickets.views.common import clock_views, current_user
from tickets.workflow import allowed_targets


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    if not access.is_staff_member(user):
        raise Http404
    tickets = selectors.ticket_queue_for_agent(user)
    if request.GET.get("mine"):
        tickets = tickets.filter(assignee=user)
    elif request.GET.get("unassigned"):
        tickets = tickets.filter(assignee__isnull=True)
    page = Paginator(tickets, 50).get_page(request.GET.get("page"))
    return render(request, "tickets/desk_queue.html", {"page": page, "now": timezone.now()})


def agent_ticket_page(
    request: HttpRequest,
    ticket: Ticket,
    *,
    reply_form: ReplyForm | None = None,
    reclassify_form: ReclassifyForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = current_user(request)
    agents = access.assignable_agents(ticket)
    now = timezone.now()
    clocks = selectors.ticket_clocks(ticket)
    status_form = StatusForm()
    status_form.fields["status"].choices = [  # type: ignore[attr-defined]  # ChoiceField
        (s.value, s.label) for s in Status if s in allowed_targets(ticket.status)
    ]
    return render(
        request,
        "tickets/ticket_agent.html",
        {
            "ticket": ticket,
            "timeline": selectors.ticket_timeline(user, ticket),
            "clocks": clock_views(clocks, now, counted=clocks_counted(ticket, clocks, now=now)),
            "reply_form": reply_form or ReplyForm(),
            "status_form": status_form,
            "assign_form": AssignForm(agents=agents, initial={"assignee": ticket.assignee_id}),
            "reclassify_form": reclassify_form
            or ReclassifyForm(initial={"severity": ticket.severity}),
            "explain": True,
            "may_acknowledge": ticket.status == Status.NEW,
            "may_claim": ticket.assignee_id != user.pk,
        },
        status=status,
    )


def _worked_ticket(request: HttpRequest, reference: str) -> Ticket:
    ticket = access.ticket_or_404(current_user(request), reference)
    if not access.can_work(current_user(request), ticket):
        raise Http404
    return ticket


@login_required
@require_POST
def ticket_acknowledge(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = _worked_ticket(request, reference)
    try:
        services.ticket_acknowledge(ticket=ticket, actor=current_user(request))
    except TicketError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Acknowledged."))
    return redirect("tickets:detail", reference=ticket.reference)


@login_required
@require_POST
def ticket_assign(request: HttpRequest, reference: str) -> HttpResponse:
    user = current_user(request)
    ticket = _worked_ticket(request, reference)
    if request.POST.get("claim"):
        assignee = user
    else:
        form = AssignForm(request.POST, agents=access.assignable_agents(ticket))
        if not form.is_valid():
            messages.error(request, _("Choose an agent of this desk."))
            return redirect("tickets:detail", reference=ticket.reference)
        assignee = form.cleaned_data["assignee"]
    try:
        services.ticket_assign(ticket=ticket, actor=user, assignee=assignee)
    except TicketError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Assignment updated."))
    return redirect("tickets:detail", reference=ticket.reference)


@login_required
@require_POST
def ticket_reclassify(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = _worked_ticket(request, reference)
    form = ReclassifyForm(request.POST)
    if form.is_valid():
        try:
            services.ticket_reclassify(
                ticket=ticket,
                actor=current_user(request),
                severity=form.cleaned_data["severity"],
                reason=form.cleaned_data["reason"],
            )
        except TicketError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, _("Severity changed; the deadlines are recomputed."))
            return redirect("tickets:detail", reference=ticket.reference)
    return agent_ticket_page(request, ticket, reclassify_form=form, status=400)
