"""The chat widget's frame, inside an organization's own product (static/js/widget.js puts it
there). No cookie is used: the first request carries the token the product signed, every later
one the credential Pacte answered with (tickets/channels/chat/widget.py)."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from tickets import access, selectors
from tickets.channels.chat import services as chat_services
from tickets.channels.chat import widget
from tickets.channels.chat.services import MAX_CHARS
from tickets.exceptions import TicketError
from tickets.models import ChatSession, Contact, Organization
from tickets.views.chat import ChatStartForm
from tickets.views.common import contact_support_hours, current_user


def _framed_by(response: HttpResponse, ancestors: list[str]) -> HttpResponse:
    """Pacte's Content-Security-Policy (csp.middleware), with ``ancestors`` as the pages that may
    frame the response: what csp.decorators.csp_replace sets, for a value that depends on the
    organization."""
    setattr(response, "_csp_replace", {"frame-ancestors": ancestors})  # noqa: B010
    return response


def _organization_pages(organization: Organization) -> list[str]:
    """Only the organization's own pages (and Pacte) may frame its chat."""
    return ["'self'", *organization.chat_origin_list]


@contextmanager
def _reader_locale(request: HttpRequest, contact: Contact) -> Iterator[None]:
    """The contact's language; their time zone, else the one their browser reported."""
    user = contact.user
    language = (user.language if user else "") or contact.language
    zone_name = (user.time_zone if user else "") or request.POST.get("tz", "")
    try:
        zone = zoneinfo.ZoneInfo(zone_name) if zone_name else None
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = None
    with translation.override(language), timezone.override(zone):
        request.LANGUAGE_CODE = language
        yield


def _refused(request: HttpRequest, reason: str) -> HttpResponse:
    # Only a reason, no action: harmless in any frame, and the product's own frame shows it.
    response = render(request, "tickets/chat_widget_error.html", {"reason": reason}, status=403)
    return _framed_by(response, ["*"])


# No cookie is read, so Django's CSRF check has nothing to protect: the signed token or
# credential says who, and the Origin header says which page sent it (checked below).
@csrf_exempt
@xframe_options_exempt  # framed by the organization's pages; the CSP below names which
@require_POST
def chat_widget(request: HttpRequest) -> HttpResponse:
    """Identify the product's user, then show their open conversation, or the form to start
    one (outside support hours: to leave a message that becomes a ticket)."""
    credential = request.POST.get("credential", "")
    origin, own_origin = (
        request.headers.get("Origin", ""),
        f"{request.scheme}://{request.get_host()}",
    )
    if credential:
        # The frame's own forms: from Pacte's pages only, never another site's.
        contact = widget.contact_from_credential(credential) if origin == own_origin else None
        if contact is None:
            return _refused(request, _("Your chat session has expired: reload the page."))
    else:
        slug = request.POST.get("organization", "")
        try:
            contact = widget.chat_widget_identify(
                organization_slug=slug,
                token=request.POST.get("token", ""),
                origin=origin,
                own_origin=own_origin,
                now=timezone.now(),
            )
        except TicketError as error:
            return _refused(request, error.message)
        credential = widget.credential_for(contact)
    assert contact.user is not None  # a contact the widget signs in has a login
    with _reader_locale(request, contact):
        response = _page(request, contact, credential)
    return _framed_by(response, _organization_pages(contact.organization))


def _page(request: HttpRequest, contact: Contact, credential: str) -> HttpResponse:
    action = request.POST.get("action", "")
    session = None if action == "new" else selectors.chat_open_for(contact)
    form = ChatStartForm(request.POST if action == "start" else None)
    if session is None and action == "start" and form.is_valid():
        try:
            session = chat_services.chat_start(
                contact=contact,
                actor=contact.user,
                text=form.cleaned_data["text"],
                severity=form.cleaned_data["severity"],
            )
        except TicketError as error:
            form.add_error("text" if error.field == "text" else None, error.message)
        else:
            # Outside support hours the chat is over at once; the message is the ticket.
            return _room(request, contact, credential, session, left_message=session.is_ended)
    if session is not None and not session.is_ended:
        return _room(request, contact, credential, session)
    hours = contact_support_hours(contact)
    return render(
        request,
        "tickets/chat_widget.html",
        {
            "form": form,
            "hours": hours,
            "credential": credential,
            "contact": contact,
            "tz": request.POST.get("tz", "")[:64],
        },
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


def _room(
    request: HttpRequest,
    contact: Contact,
    credential: str,
    session: ChatSession,
    *,
    left_message: bool = False,
) -> HttpResponse:
    return render(
        request,
        "tickets/chat_widget_room.html",
        {
            "ticket": session.ticket,
            "session": session,
            "credential": credential,
            "contact": contact,
            "tz": request.POST.get("tz", "")[:64],
            "left_message": left_message,
            "role": "customer",
            "max_chars": MAX_CHARS,
        },
    )


class WidgetTryForm(forms.Form):
    contact = forms.ModelChoiceField(
        label=gettext_lazy("Contact"),
        queryset=Contact.objects.none(),
        empty_label=gettext_lazy("Choose a contact"),
        help_text=gettext_lazy(
            "The page below signs a token for this contact, as their product would."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["contact"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = (
            Contact.objects.filter(organization__under_contract=True)
            .exclude(organization__chat_secret="")
            .select_related("organization")
            .order_by("organization__name", "name")
        )


@login_required
def chat_widget_try(request: HttpRequest) -> HttpResponse:
    """A sample product page embedding the widget for a chosen contact (managers only): what an
    organization's developers should see once they have added the script tag."""
    if not access.may_configure(current_user(request)):
        raise Http404
    form = WidgetTryForm(request.GET or None)
    token = contact = None
    if form.is_valid():
        contact = form.cleaned_data["contact"]
        token = widget.sign_token(
            contact.organization, email=contact.email, name=contact.name, now=timezone.now()
        )
    return render(
        request, "tickets/chat_widget_try.html", {"form": form, "token": token, "contact": contact}
    )
