"""An organization's admins manage its people; an invited colleague sets their password."""

from __future__ import annotations

from allauth.account.adapter import get_adapter as get_account_adapter
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from tickets.accounts import people as people_services
from tickets.accounts.audit import client_address
from tickets.exceptions import PermissionDeniedError, TicketError
from tickets.models import Contact
from tickets.views.common import current_user, form_error


class InviteForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    email = forms.EmailField(label=gettext_lazy("Email address"))
    admin = forms.BooleanField(
        label=gettext_lazy("Administrator: may invite and manage colleagues"), required=False
    )


def _admin_contact(request: HttpRequest) -> Contact:
    contact = (
        Contact.objects.select_related("organization").filter(user=current_user(request)).first()
    )
    if contact is None or not contact.is_org_admin:
        raise Http404
    return contact


@login_required
@require_http_methods(["GET", "POST"])
def people(request: HttpRequest) -> HttpResponse:
    """The organization's people, their accounts, and the invitation form."""
    admin = _admin_contact(request)
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = people_services.colleague_invite(
                by=current_user(request),
                name=form.cleaned_data["name"],
                email=form.cleaned_data["email"],
                admin=form.cleaned_data["admin"],
                ip=client_address(request),
            )
        except TicketError as error:
            form_error(request, form, error)
        else:
            messages.success(
                request,
                _("Invitation sent to %(address)s.") % {"address": invitation.contact.email},
            )
            return redirect("people")
    colleagues = (
        Contact.objects.filter(organization=admin.organization)
        .select_related("user")
        .order_by("name")
    )
    return render(
        request,
        "registration/people.html",
        {"form": form, "admin": admin, "colleagues": colleagues},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def people_change(request: HttpRequest, pk: int) -> HttpResponse:
    """Turn a colleague's sign-in off or on, or change their role."""
    _admin_contact(request)
    user = current_user(request)
    action = request.POST.get("action", "")
    try:
        if action in ("deactivate", "activate"):
            contact = people_services.colleague_set_active(
                by=user, contact_id=pk, active=action == "activate", ip=client_address(request)
            )
        elif action in ("make_admin", "make_member"):
            contact = people_services.colleague_set_role(
                by=user, contact_id=pk, admin=action == "make_admin", ip=client_address(request)
            )
        else:
            raise TicketError(_("Unknown action."))
    except PermissionDeniedError:
        raise Http404 from None
    except TicketError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("%(name)s: saved.") % {"name": contact.name})
    return redirect("people")


@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """An invited colleague chooses their password; the link then stops working."""
    user = people_services.invitation_user(token)
    if user is None:
        return render(request, "registration/invitation_invalid.html", status=404)
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        get_account_adapter(request).set_password(user, form.cleaned_data["new_password1"])
        messages.success(
            request,
            _("Your password is set. Sign in with your username, %(username)s.")
            % {"username": user.username},
        )
        return redirect("account_login")
    return render(
        request,
        "registration/invitation.html",
        {"form": form, "invited": user},
        status=400 if request.method == "POST" else 200,
    )
