"""Personal data on request, for managers: find a contact, download everything Pacte holds
about them, or erase them (confirmed by typing their address)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tickets.accounts.audit import client_address
from tickets.accounts.personal_data import ERASED, personal_data_erase, personal_data_export
from tickets.exceptions import TicketError
from tickets.middleware import writes_on_get
from tickets.models import Contact
from tickets.views.common import manager_user


@login_required
def personal_data(request: HttpRequest) -> HttpResponse:
    manager_user(request)
    query = request.GET.get("q", "").replace("\x00", "").strip()[:200]
    found = (
        Contact.objects.filter(email__icontains=query)
        .exclude(name__startswith=ERASED)
        .select_related("organization")
        .order_by("email")[:20]
        if len(query) >= 3
        else []
    )
    return render(request, "tickets/personal_data.html", {"query": query, "found": found})


@writes_on_get
@login_required
def personal_data_download(request: HttpRequest, pk: int) -> HttpResponse:
    manager = manager_user(request)
    contact = get_object_or_404(Contact.objects.select_related("organization", "user"), pk=pk)
    archive = personal_data_export(contact=contact, by=manager, ip=client_address(request))
    response = HttpResponse(archive, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="pacte-contact-{contact.pk}.zip"'
    return response


@login_required
@require_POST
def personal_data_erase_view(request: HttpRequest, pk: int) -> HttpResponse:
    manager = manager_user(request)
    contact = get_object_or_404(Contact.objects.select_related("user"), pk=pk)
    if request.POST.get("confirm", "").strip().lower() != contact.email.lower():
        messages.error(
            request, _("Type the contact's email address to confirm: nothing was erased.")
        )
        return redirect(f"{reverse('desk:personal-data')}?{urlencode({'q': contact.email})}")
    try:
        personal_data_erase(contact=contact, by=manager, ip=client_address(request))
    except TicketError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, _("Contact #%(pk)d erased; their tickets stay for the reports.") % {"pk": pk}
        )
    return redirect("desk:personal-data")
