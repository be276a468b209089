"""Agent pages: the queue of the agent's desks and the working view of a ticket."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from sla.clocks.selectors import clocks_counted, current_clocks
from sla.models import PauseReason
from tickets import access, selectors, services
from tickets.exceptions import TicketError
from tickets.filters import QueueFilter, SavedView, apply_saved_view
from tickets.forms import (
    AssignForm,
    BulkForm,
    MergeForm,
    PhoneCallForm,
    ReclassifyForm,
    ReplyForm,
    StatusForm,
)
from tickets.models import Desk, Status, Tag, Ticket, TicketTriage, User
from tickets.triage.services import explanation
from tickets.views.common import clock_views, current_user, form_error, staff_user
from tickets.views.followers import follower_context
from tickets.workflow import REPLY_THEN, allowed_targets, can_transition

QUEUE_PAGE_SIZE = 50


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    """Open tickets of the agent's desks, nearest deadline first, with live SLA badges.

    htmx asks for the table alone every PACTE_QUEUE_REFRESH_SECONDS (and on each filter
    change)."""
    user = staff_user(request)
    view = request.GET.get("view", SavedView.ALL)
    if view not in SavedView.values:
        view = SavedView.ALL
    desks, visible = access.desks_and_tickets(user)
    tickets = apply_saved_view(selectors.ticket_queue_for_agent(visible), view, user)
    people = list(_bulk_agents([desk.pk for desk in desks]).annotate(agent=Exists(
        Desk.agents.through.objects.filter(user=OuterRef("pk"), desk__in=desks)
    )))  # fmt: skip
    agents = [person for person in people if person.agent]  # the filter's: desks' agents only
    filters = QueueFilter(request.GET, queryset=tickets, user=user, desks=desks, agents=agents)
    page = Paginator(selectors.ticket_queue_page_related(filters.qs), QUEUE_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    now = timezone.now()
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page,
        # Chats waiting for an agent lead the first page: read as the page renders, only when
        # the navigation's counts (tickets.context_processors) say some wait.
        "chats_from": filters.qs if page.number == 1 else None,
        "rows": selectors.queue_rows(list(page.object_list), now=now),
        "now": now,
        "filters": filters,
        "view": view,
        "views": SavedView.choices,
        "query": query.urlencode(),
        "filtered": any(request.GET.get(name) for name in filters.filters),
        "bulk_form": BulkForm(agents=people),
        "refresh_seconds": settings.PACTE_QUEUE_REFRESH_SECONDS,
        "my_views": list(user.queue_views.all()),
    }
    if request.headers.get("HX-Target") == "queue-table":
        # A filter applied in place also brings the tools that depend on it (save the view,
        # clear the filters); the table's own refresh leaves them, and a name being typed, be.
        context["view_tools"] = not request.headers.get("X-Pacte-Poll")
        return render(request, "tickets/_queue_table.html", context)
    return render(request, "tickets/desk_queue.html", context)


@login_required
@require_POST
def queue_view_save(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    try:
        view = services.queue_view_save(
            owner=user, name=request.POST.get("name", ""), query=request.POST
        )
    except TicketError as error:
        messages.error(request, error.message)
        return redirect(f"{reverse('desk:queue')}?{request.POST.get('query', '')}")
    messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
    return redirect(f"{reverse('desk:queue')}?{view.query}")


@login_required
@require_POST
def queue_view_delete(request: HttpRequest, pk: int) -> HttpResponse:
    user = staff_user(request)
    if not services.queue_view_delete(owner=user, pk=pk):
        raise Http404
    messages.success(request, _("View deleted."))
    return redirect("desk:queue")


def _bulk_agents(desks: QuerySet[Desk] | list[int]) -> QuerySet[User]:
    return (
        User.objects.filter(Q(desks__in=desks) | Q(role=User.Role.MANAGER), is_active=True)
        .distinct()
        .order_by("first_name", "username")
    )


@login_required
@require_POST
def queue_bulk(request: HttpRequest) -> HttpResponse:
    """Assign and/or change the status of the selected tickets, all or none."""
    user = staff_user(request)
    form = BulkForm(request.POST, agents=_bulk_agents(access.desks_worked_by(user)))
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("desk:queue")
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect(back)
    wanted = form.cleaned_data["tickets"]
    tickets = [t for t in access.visible_tickets(user).filter(pk__in=wanted) if t.pk in wanted]
    if len(tickets) != len(set(wanted)):
        messages.error(
            request, _("Some selected tickets are not yours to change. Nothing changed.")
        )
        return redirect(back)
    assignee = form.cleaned_data["assignee"]
    try:
        count = services.tickets_bulk_update(
            tickets=tickets,
            actor=user,
            assignee=assignee if assignee not in (None, BulkForm.NOBODY) else None,
            unassign=assignee == BulkForm.NOBODY,
            status=form.cleaned_data["status"],
        )
    except TicketError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            ngettext("%(n)d ticket updated.", "%(n)d tickets updated.", count) % {"n": count},
        )
    return redirect(back)


def _status_form(ticket: Ticket) -> StatusForm:
    """The statuses the ticket may move to (none preselected), and its policy's reasons to
    put it on hold."""
    form = StatusForm()
    statuses = [(s.value, s.label) for s in Status if s in allowed_targets(ticket.status)]
    form.fields["status"].choices = [("", _("Choose the new status")), *statuses]  # type: ignore[attr-defined]  # a ChoiceField
    reasons = [
        (r.slug, r.label) for r in PauseReason.objects.filter(policy_id=ticket.policy_id_in_force)
    ]
    widget = form.fields["pause_reason"].widget
    widget.choices = [("", _("No reason: not on hold")), *reasons]  # type: ignore[attr-defined]  # a Select
    return form


def _newest(timeline: list[selectors.TimelineEntry]) -> int:
    """The newest message the page shows (a reply form remembers it: tickets.forms.ReplyForm)."""
    return max((entry.message.pk for entry in timeline if entry.message), default=0)


def _reply_then(ticket: Ticket) -> list[str]:
    """The statuses "Send and mark ..." offers: those the ticket may take once answered (a
    new ticket is acknowledged by the reply first)."""
    after = Status.ACKNOWLEDGED if ticket.status == Status.NEW else ticket.status
    return [s for s in REPLY_THEN if s != after and can_transition(after, s)]


def agent_ticket_page(
    request: HttpRequest,
    ticket: Ticket,
    *,
    reply_form: ReplyForm | None = None,
    reclassify_form: ReclassifyForm | None = None,
    merge_form: MergeForm | None = None,
    preview: list[services.DeadlinePreview] | None = None,
    newer: list[int] | None = None,
    dropped_files: bool = False,
    status: int = 200,
) -> HttpResponse:
    user = current_user(request)
    agents = access.assignable_agents(ticket)
    now = timezone.now()
    clocks = selectors.ticket_clocks(ticket)
    status_form = _status_form(ticket)
    triage = TicketTriage.objects.filter(ticket=ticket).first()  # none before triage began
    timeline = selectors.ticket_timeline(user, ticket)
    return render(
        request,
        "tickets/ticket_agent.html",
        {
            "ticket": ticket,
            "timeline": timeline,
            "clocks": clock_views(
                clocks,
                now,
                counted=clocks_counted(ticket, current_clocks(clocks), now=now),
                ticket=ticket,
            ),
            "reply_form": reply_form or ReplyForm(initial={"seen": _newest(timeline)}),
            "newer_messages": newer or [],
            "dropped_files": dropped_files,
            "reply_then": _reply_then(ticket),
            "status_form": status_form,
            "assign_form": AssignForm(agents=agents, initial={"assignee": ticket.assignee_id}),
            "reclassify_form": reclassify_form
            or ReclassifyForm(initial={"severity": ticket.severity}),
            "merge_form": merge_form or MergeForm(),
            "triage": triage,
            "triage_why": explanation(ticket, triage) if triage is not None else None,
            "preview": preview,
            "canned_replies": selectors.canned_replies_for(user, ticket),
            "merged_tickets": ticket.merged_tickets.order_by("pk"),
            **follower_context(user, ticket),
            "tags": list(ticket.tags.values_list("name", flat=True)),
            "known_tags": Tag.objects.values_list("name", flat=True)[:300],
            "explain": True,
            "may_acknowledge": ticket.status == Status.NEW,
            "may_claim": ticket.assignee_id != user.pk,
        },
        status=status,
    )


def worked_ticket(request: HttpRequest, reference: str) -> Ticket:
    ticket = access.ticket_or_404(current_user(request), reference)
    if not access.can_work(current_user(request), ticket):
        raise Http404
    return ticket


@login_required
@require_POST
def ticket_acknowledge(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = worked_ticket(request, reference)
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
    ticket = worked_ticket(request, reference)
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
    """First the new deadlines are shown; the change is made when the agent confirms them."""
    ticket = worked_ticket(request, reference)
    user = current_user(request)
    form = ReclassifyForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if not data["confirm"]:
                preview = services.ticket_reclassify_preview(
                    ticket=ticket, actor=user, severity=data["severity"], reason=data["reason"]
                )
                return agent_ticket_page(request, ticket, reclassify_form=form, preview=preview)
            services.ticket_reclassify(
                ticket=ticket, actor=user, severity=data["severity"], reason=data["reason"]
            )
        except TicketError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, _("Severity changed; the deadlines are recomputed."))
            return redirect("tickets:detail", reference=ticket.reference)
    return agent_ticket_page(request, ticket, reclassify_form=form, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def phone_call(request: HttpRequest) -> HttpResponse:
    """Log a customer's call as a new ticket: phone channel, clocks from the time of the call."""
    user = staff_user(request)
    contacts = access.contacts_served_by(user)
    initial = {
        "called_at": timezone.localtime().replace(second=0, microsecond=0),
        "contact": request.GET.get("contact"),
    }
    form = PhoneCallForm(request.POST or None, contacts=contacts, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ticket = services.phone_call_log(
                agent=user,
                contact=data["contact"],
                subject=data["subject"],
                description=data["description"],
                severity=data["severity"],
                called_at=data["called_at"],
                acknowledged=data["acknowledged"],
            )
        except TicketError as error:
            form_error(request, form, error)
        else:
            messages.success(request, _("Call logged as %(ref)s.") % {"ref": ticket.reference})
            return redirect("tickets:detail", reference=ticket.reference)
    return render(
        request,
        "tickets/phone_call.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )
