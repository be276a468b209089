"""Live chat pages: a customer starts a conversation; the customer and the desk's agents talk
on the conversation's page (the WebSocket does the rest, see tickets/channels/chat/consumers.py)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from tickets import access, selectors
from tickets.channels.chat import services as chat_services
from tickets.channels.chat.services import MAX_CHARS
from tickets.exceptions import TicketError
from tickets.models import OPEN_STATUSES, ChatSession, Severity, Ticket, User
from tickets.views.common import (
    clock_views,
    contact_support_hours,
    current_user,
    form_error,
    staff_user,
)


class ChatStartForm(forms.Form):
    severity = forms.ChoiceField(
        label=gettext_lazy("Severity"),
        choices=[
            ("", gettext_lazy("Not sure: the desk judges from my message")),
            *Severity.choices,
        ],
        required=False,
    )
    text = forms.CharField(
        label=gettext_lazy("Your message"),
        max_length=MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


@login_required
@require_http_methods(["GET", "POST"])
def chat_start(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    contact = access.contact_of(user)
    if contact is None:
        raise Http404
    form = ChatStartForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            session = chat_services.chat_start(
                contact=contact,
                actor=user,
                text=form.cleaned_data["text"],
                severity=form.cleaned_data["severity"],
            )
        except TicketError as error:
            form_error(request, form, error)
        else:
            if session.state == ChatSession.State.ENDED:
                messages.success(
                    request,
                    _("Support is closed: your message is ticket %(ref)s; we answer when it opens.")
                    % {"ref": session.ticket.reference},
                )
            return redirect("chat:room", reference=session.ticket.reference)
    hours = contact_support_hours(contact)
    return render(
        request,
        "tickets/chat_start.html",
        {"form": form, "hours": hours},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def chat_room(request: HttpRequest, reference: str) -> HttpResponse:
    user = current_user(request)
    ticket = access.ticket_or_404(user, reference)
    session = ChatSession.objects.filter(ticket=ticket).select_related("agent").first()
    if session is None:
        raise Http404
    agent = access.can_work(user, ticket)
    return render(
        request,
        "tickets/chat_room.html",
        {
            "ticket": ticket,
            "session": session,
            "role": "agent" if agent else "customer",
            # The lines so far, shown as the page opens; the WebSocket brings what follows.
            "chat_lines": [
                (chat_services.line_side(m), m) for m in chat_services.chat_history(user, ticket)
            ],
            "max_chars": MAX_CHARS,
            **(_customer_context(user, ticket) if agent else {}),
        },
    )


def _customer_context(user: User, ticket: Ticket) -> dict[str, object]:
    """What an agent in a chat sees beside it: who the customer is, their other open tickets,
    this ticket's promises, and the canned replies in the customer's language."""
    others = (
        access.visible_tickets(user)
        .filter(requester=ticket.requester, status__in=OPEN_STATUSES)
        .exclude(pk=ticket.pk)
        .order_by("-received_at")
    )
    return {
        "other_tickets": list(others[:5]),
        "other_count": others.count(),
        "clocks": clock_views(selectors.ticket_clocks(ticket), ticket=ticket),
        "canned_replies": selectors.canned_replies_for(user, ticket),
    }


@login_required
def chat_waiting(request: HttpRequest) -> HttpResponse:
    """The desk's chats waiting for an agent (a fragment the queue polls; it rings on news)."""
    user = staff_user(request)
    waiting = (
        ChatSession.objects.filter(
            state=ChatSession.State.WAITING, ticket__in=access.visible_tickets(user)
        )
        .select_related("ticket__requester", "ticket__organization")
        .order_by("started_at")
    )
    return render(request, "tickets/_chat_waiting.html", {"waiting": waiting})
