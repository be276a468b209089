"""Received mail: the inbound webhook, and the staff pages for mail held for review or
quarantined (turn into a ticket, add a reply from outside to its ticket, discard, retry,
download the original)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from tickets import access
from tickets.channels.email.ingest import (
    ERROR_LABELS,
    FROM_STAFF_ADDRESS,
    TEMPORARY_ERRORS,
    EmptyMail,
    MailTooLarge,
    mail_receive,
    mail_retry,
    mail_review_accept,
    mail_review_attach,
    mail_review_discard,
)
from tickets.channels.email.parsing import MailParseError, parse
from tickets.exceptions import TicketError
from tickets.models import Contact, InboundMail, Severity
from tickets.views.common import current_user, form_error, staff_user
from tickets.views.files import sandboxed

TABS = {
    "review": [InboundMail.Status.REVIEW],
    "quarantine": [InboundMail.Status.QUARANTINED],
    "all": list(InboundMail.Status.values),
}


@csrf_exempt
def inbound_webhook(request: HttpRequest, slug: str) -> HttpResponse:
    """POST the raw message (any content type) with `Authorization: Bearer <desk secret>`;
    `X-Pacte-Recipient` may carry the envelope recipient. 202 stored, 200 a duplicate,
    413 too large, 400 empty, 503 try again later; 404 for any authentication failure."""
    if request.method != "POST":
        return JsonResponse(
            {"error": "POST the raw message"}, status=405, headers={"Allow": "POST"}
        )
    desk = access.desk_for_webhook(slug, request.headers.get("Authorization", ""))
    if desk is None:
        return JsonResponse({"error": "unknown desk or wrong secret"}, status=404)
    try:
        received = mail_receive(
            raw=request.body,
            source=InboundMail.Source.WEBHOOK,
            recipient=request.headers.get("X-Pacte-Recipient", ""),
            desk=desk,
        )
    except EmptyMail:
        return JsonResponse({"error": "empty message"}, status=400)
    except MailTooLarge as exc:
        return JsonResponse({"error": str(exc)}, status=413)
    except TEMPORARY_ERRORS:
        return JsonResponse(
            {"error": "temporarily unavailable, try again"},
            status=503,
            headers={"Retry-After": "60"},
        )
    inbound = received.inbound
    return JsonResponse(
        {"id": inbound.pk, "status": inbound.status, "duplicate": received.duplicate},
        status=200 if received.duplicate else 202,
    )


@login_required
def mail_list(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    tab = request.GET.get("tab", "review")
    if tab not in TABS:
        tab = "review"
    mails = (
        access.visible_inbound_mail(user)
        .filter(status__in=TABS[tab])
        .select_related("desk", "ticket")
        .defer("raw")
    )
    page = Paginator(mails, 50).get_page(request.GET.get("page"))
    counts = {
        name: access.visible_inbound_mail(user).filter(status__in=statuses).count()
        for name, statuses in TABS.items()
        if name != "all"
    }
    return render(request, "tickets/mail_list.html", {"page": page, "tab": tab, "counts": counts})


class AcceptForm(forms.Form):
    contact = forms.ModelChoiceField(
        queryset=Contact.objects.none(),
        label=gettext_lazy("Contact"),
        empty_label=gettext_lazy("Choose a contact"),
    )
    severity = forms.ChoiceField(choices=Severity.choices, label=gettext_lazy("Severity"))


def _accept_form(inbound: InboundMail, data: QueryDict | None = None) -> AcceptForm:
    form = AcceptForm(data)
    contacts = Contact.objects.filter(organization__under_contract=True).select_related(
        "organization"
    )
    if inbound.desk_id:
        contacts = contacts.filter(organization__desks=inbound.desk_id)
    field = form.fields["contact"]
    assert isinstance(field, forms.ModelChoiceField)
    field.queryset = contacts.order_by("organization__name", "name")
    # A colleague's address suggests the contact, for mail that opens a ticket. A reply held
    # from outside a ticket's organization suggests no one: one click would credit a
    # stranger's words to a contact.
    domain = inbound.sender.rpartition("@")[2] if inbound.ticket_id is None else ""
    guess = contacts.filter(email__iendswith=f"@{domain}").first() if domain else None
    form.fields["contact"].initial = guess.pk if guess else None
    form.fields["severity"].initial = Severity.MAJOR
    return form


def _detail(
    request: HttpRequest, inbound: InboundMail, *, form: AcceptForm | None = None, status: int = 200
) -> HttpResponse:
    try:
        parsed = parse(bytes(inbound.raw))
        parse_error = ""
    except (MailParseError, ValueError) as exc:
        parsed, parse_error = None, str(exc)
    return render(
        request,
        "tickets/mail_detail.html",
        {
            "inbound": inbound,
            "parsed": parsed,
            "parse_error": parse_error,
            "recipients": list(
                dict.fromkeys(
                    [a for a in (inbound.recipient, *(parsed.recipients if parsed else ())) if a]
                )
            ),
            "form": form or _accept_form(inbound),
            "error": ERROR_LABELS.get(inbound.error, inbound.error),
            "may_attach": inbound.status == InboundMail.Status.REVIEW
            and inbound.ticket is not None
            and access.can_work(current_user(request), inbound.ticket),
            "held_from_staff_address": inbound.reason == FROM_STAFF_ADDRESS,
        },
        status=status,
    )


@login_required
def mail_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = staff_user(request)
    return _detail(request, access.inbound_mail_or_404(user, pk))


@login_required
def mail_raw(request: HttpRequest, pk: int) -> HttpResponse:
    """The original message, byte for byte, as a file to open in a mail client."""
    user = staff_user(request)
    inbound = access.inbound_mail_or_404(user, pk)
    response = HttpResponse(bytes(inbound.raw), content_type="message/rfc822")
    response["Content-Disposition"] = f'attachment; filename="mail-{inbound.pk}.eml"'
    sandboxed(response)
    return response


@login_required
@require_POST
def mail_accept(request: HttpRequest, pk: int) -> HttpResponse:
    user = staff_user(request)
    inbound = access.inbound_mail_or_404(user, pk)
    form = _accept_form(inbound, request.POST)
    if not form.is_valid():
        return _detail(request, inbound, form=form, status=400)
    contact = form.cleaned_data["contact"]
    try:
        ticket = mail_review_accept(
            inbound=inbound, actor=user, contact=contact, severity=form.cleaned_data["severity"]
        )
    except TicketError as error:
        form_error(request, form, error)
        return _detail(request, inbound, form=form, status=400)
    messages.success(request, _("Ticket %(ref)s opened from the mail.") % {"ref": ticket.reference})
    return redirect("tickets:detail", ticket.reference)


@login_required
@require_POST
def mail_attach(request: HttpRequest, pk: int) -> HttpResponse:
    """Keep a held reply from outside the organization on the ticket it answers."""
    user = staff_user(request)
    inbound = access.inbound_mail_or_404(user, pk)
    try:
        message = mail_review_attach(inbound=inbound, actor=user)
    except TicketError as error:
        messages.error(request, error.message)
        return redirect("desk:mail-detail", inbound.pk)
    reference = message.ticket.reference
    messages.success(request, _("The mail was added to %(ref)s.") % {"ref": reference})
    return redirect(reverse("tickets:detail", args=[reference]) + f"#m{message.pk}")


@login_required
@require_POST
def mail_discard(request: HttpRequest, pk: int) -> HttpResponse:
    user = staff_user(request)
    inbound = access.inbound_mail_or_404(user, pk)
    try:
        mail_review_discard(inbound=inbound, actor=user)
    except TicketError as error:
        messages.error(request, error.message)
        return redirect("desk:mail-detail", inbound.pk)
    messages.success(request, _("Mail discarded."))
    return redirect("desk:mail-list")


@login_required
@require_POST
def mail_retry_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = staff_user(request)
    inbound = access.inbound_mail_or_404(user, pk)
    try:
        inbound = mail_retry(inbound=inbound)
    except TicketError as error:
        messages.error(request, error.message)
        return redirect("desk:mail-detail", inbound.pk)
    if inbound.status == InboundMail.Status.QUARANTINED:
        messages.error(request, _("Still failing: %(error)s") % {"error": inbound.error})
    else:
        messages.success(
            request, _("Handled: %(status)s.") % {"status": inbound.get_status_display()}
        )
    return redirect("desk:mail-detail", inbound.pk)
