"""Customer pages: my tickets, file a ticket, follow and answer it."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from sla.contracts import filing_refused_reason
from tickets import access, selectors, services
from tickets.exceptions import TicketError
from tickets.filters import CustomerTicketFilter
from tickets.forms import SEVERITY_DEFINITIONS, ReplyForm, StatusForm, TicketCreateForm
from tickets.models import Channel, Message, SatisfactionRating, Status, Ticket, User
from tickets.services.reopening import reopen_refusal, reopen_window
from tickets.services.satisfaction import RATED_STATUSES
from tickets.views.common import clock_views, contact_support_hours, form_error
from tickets.views.common import current_user as _user
from tickets.views.desk import agent_ticket_page
from tickets.views.followers import follower_context


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if access.is_staff_member(user):
        return redirect("desk:queue")
    return redirect("tickets:list")


@login_required
def ticket_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if access.is_staff_member(user):
        return redirect("desk:queue")
    contact = access.contact_of(user)
    requesters = None  # an organization admin chooses among their organization's people
    if contact is not None and contact.is_org_admin:
        requesters = contact.organization.contacts.order_by("name")
    filters = CustomerTicketFilter(
        request.GET, queryset=selectors.ticket_list_for_customer(user), requesters=requesters
    )
    page = Paginator(filters.qs, 25).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "tickets/ticket_list.html",
        {
            "page": page,
            "now": timezone.now(),  # a running promise due before it is overdue
            "filters": filters,
            "filtered": any(request.GET.get(name) for name in filters.filters),
            "query": query.urlencode(),
            "contact": contact,
            "may_file": contact is not None and contact.organization.under_contract,
            "refused": filing_refused_reason(contact.organization, now=timezone.now())
            if contact is not None and not contact.organization.under_contract
            else "",
            "hours": contact_support_hours(contact),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def ticket_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    contact = access.contact_of(user)
    if contact is None:
        raise Http404
    if request.method == "GET" and not contact.organization.under_contract:
        # Say why before the form is filled in (a post is refused by the service, in words).
        messages.error(request, filing_refused_reason(contact.organization, now=timezone.now()))
        return redirect("tickets:list")
    form = TicketCreateForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            ticket = services.ticket_create(
                requester=contact,
                subject=form.cleaned_data["subject"],
                description=form.cleaned_data["description"],
                severity=form.cleaned_data["severity"],
                channel=Channel.WEB,
                actor=user,
                files=form.cleaned_data["attachments"],
            )
        except TicketError as error:
            form_error(request, form, error)
        else:
            messages.success(request, _("Ticket %(ref)s is filed.") % {"ref": ticket.reference})
            return redirect("tickets:detail", reference=ticket.reference)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "tickets/ticket_create.html",
        {
            "form": form,
            "definitions": SEVERITY_DEFINITIONS,
            "contact": contact,
            "hours": contact_support_hours(contact),
            "limits": {
                "count": settings.PACTE_ATTACHMENTS_PER_MESSAGE,
                "size": settings.PACTE_ATTACHMENT_MAX_BYTES,
            },
        },
        status=status,
    )


@login_required
def ticket_detail(request: HttpRequest, reference: str) -> HttpResponse:
    user = _user(request)
    ticket = access.ticket_or_404(user, reference)
    if access.can_work(user, ticket):
        return agent_ticket_page(request, ticket)
    return _customer_page(request, ticket, ReplyForm())


def _customer_page(
    request: HttpRequest, ticket: Ticket, form: ReplyForm, status: int = 200
) -> HttpResponse:
    user = _user(request)
    form.fields.pop("internal", None)
    form.fields.pop("phone_call", None)
    form.fields.pop("called_at", None)
    owner = access.owns_as_customer(user, ticket)  # a colleague copied on it reads, replies
    closed, until = reopen_window(ticket)
    return render(
        request,
        "tickets/ticket_detail.html",
        {
            "ticket": ticket,
            "timeline": selectors.ticket_timeline(user, ticket),
            "clocks": clock_views(
                selectors.ticket_clocks(ticket), ticket=ticket, for_customer=True
            ),
            "explain": True,
            "form": form,
            "may_reply": not closed,
            "may_close": ticket.status != Status.CLOSED and owner,
            "reopen_until": None if closed or not owner else until,
            "rating": SatisfactionRating.objects.filter(ticket=ticket).first()
            if ticket.status in RATED_STATUSES
            else None,
            **follower_context(user, ticket),
            "may_rate": ticket.status in RATED_STATUSES and owner,
            "closed_why": reopen_refusal(ticket, until) if closed else "",
        },
        status=status,
    )


@login_required
@require_POST
def ticket_reply(request: HttpRequest, reference: str) -> HttpResponse:
    user = _user(request)
    ticket = access.ticket_or_404(user, reference)
    form = ReplyForm(request.POST, request.FILES)
    staff = access.can_work(user, ticket)
    if staff and form.is_valid() and (newer := _newer_messages(ticket, user, form)):
        # Someone wrote while this agent was writing: show it first; the next send goes.
        data = request.POST.copy()
        data["seen"] = str(max(newer))
        return agent_ticket_page(
            request,
            ticket,
            reply_form=ReplyForm(data),
            newer=newer,
            dropped_files=bool(request.FILES),
            status=409,
        )
    if form.is_valid():
        phone_call = staff and form.cleaned_data["phone_call"]
        try:
            services.ticket_reply(
                ticket=ticket,
                author=user,
                body=form.cleaned_data["body"],
                internal=staff and form.cleaned_data["internal"],
                channel=Channel.PHONE if phone_call else Channel.WEB,
                files=form.cleaned_data["attachments"],
                received_at=form.cleaned_data["called_at"] if phone_call else None,
                then_status=form.cleaned_data["then"] if staff else "",
            )
        except TicketError as error:
            form_error(request, form, error)
        else:
            then = form.cleaned_data["then"] if staff else ""
            messages.success(
                request,
                _("Your message is added; the ticket is now %(status)s.")
                % {"status": Status(then).label.lower()}
                if then
                else _("Your message is added."),
            )
            return redirect("tickets:detail", reference=ticket.reference)
    if staff:
        return agent_ticket_page(request, ticket, reply_form=form, status=400)
    return _customer_page(request, ticket, form, status=400)


def _newer_messages(ticket: Ticket, user: User, form: ReplyForm) -> list[int]:
    """Messages added since the agent's page was shown, by anyone else."""
    seen = form.cleaned_data.get("seen")
    if seen is None:
        return []
    later = Message.objects.filter(ticket=ticket, pk__gt=seen).exclude(author=user)
    return list(later.values_list("pk", flat=True))


@login_required
@require_POST
def ticket_reopen(request: HttpRequest, reference: str) -> HttpResponse:
    """The customer reopens their resolved ticket (within PACTE_REOPEN_DAYS)."""
    user = _user(request)
    ticket = access.ticket_or_404(user, reference)
    try:
        services.ticket_reopen(ticket=ticket, actor=user)
    except TicketError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Ticket reopened: support takes it up again."))
    return redirect("tickets:detail", reference=ticket.reference)


@login_required
@require_POST
def ticket_status(request: HttpRequest, reference: str) -> HttpResponse:
    user = _user(request)
    ticket = access.ticket_or_404(user, reference)
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a valid status."))
    else:
        try:
            services.ticket_change_status(
                ticket=ticket,
                actor=user,
                status=form.cleaned_data["status"],
                note=form.cleaned_data["note"],
                pause_reason=form.cleaned_data["pause_reason"],
            )
        except TicketError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Status updated."))
    return redirect("tickets:detail", reference=ticket.reference)
