"""The signed-in user's own preferences and API tokens."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django.views.i18n import set_language

from tickets.accounts.audit import client_address
from tickets.accounts.sessions import session_end, sessions_of, user_session_key
from tickets.accounts.tokens import api_token_create, api_token_revoke
from tickets.exceptions import TicketError
from tickets.forms import ApiTokenForm, PreferencesForm
from tickets.models import ApiToken, Contact, Language, User
from tickets.services import user_set_language, user_set_preferences
from tickets.views.common import current_user, form_error


@require_POST
def language_switch(request: HttpRequest) -> HttpResponse:
    """Django's set_language, which also remembers the choice in the user's profile."""
    user = request.user
    language = request.POST.get("language", "")
    if isinstance(user, User) and user.is_authenticated and language in Language.values:
        user_set_language(user=user, language=language)
    return set_language(request)


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    form = PreferencesForm(
        request.POST or None,
        initial={"language": user.language, "time_zone": user.time_zone},
        current_zone=user.time_zone,
    )
    if request.method == "POST" and form.is_valid():
        try:
            user_set_preferences(
                user=user,
                language=form.cleaned_data["language"],
                time_zone=form.cleaned_data["time_zone"],
            )
        except TicketError as error:
            form_error(request, form, error)
        else:
            response = redirect("preferences")
            if user.language:
                translation.activate(user.language)
                response.set_cookie(
                    settings.LANGUAGE_COOKIE_NAME,
                    user.language,
                    samesite="Lax",
                    secure=request.is_secure(),
                )
            else:
                # Follow the browser again: forget a language chosen earlier in the switcher.
                response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)
                request.COOKIES.pop(settings.LANGUAGE_COOKIE_NAME, None)
                translation.activate(translation.get_language_from_request(request))
            messages.success(request, _("Your preferences are saved."))
            return response
    return render(
        request,
        "registration/preferences.html",
        {
            "form": form,
            "is_org_admin": Contact.objects.filter(user=user, role=Contact.Role.ADMIN).exists(),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request: HttpRequest) -> HttpResponse:
    """The user's API tokens; a new one's key is shown on this answer only. (Staff reach this
    page only from a session that passed their second factor.)"""
    user = current_user(request)
    form = ApiTokenForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            token, key = api_token_create(
                user=user,
                name=form.cleaned_data["name"],
                days=form.cleaned_data["days"],
                now=timezone.now(),
                ip=client_address(request),
            )
        except TicketError as error:
            form_error(request, form, error)
        else:
            created = {"token": token, "key": key}
            form = ApiTokenForm()
    return render(
        request,
        "registration/api_tokens.html",
        {
            "form": form,
            "created": created,
            "tokens": user.api_tokens.all(),
            "now": timezone.now(),
        },
        status=400 if request.method == "POST" and created is None else 200,
    )


@login_required
@require_POST
def api_token_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = current_user(request)
    token = get_object_or_404(ApiToken, pk=pk, user=user)
    api_token_revoke(token=token, actor=user, now=timezone.now(), ip=client_address(request))
    messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("api-tokens")


@login_required
def sessions(request: HttpRequest) -> HttpResponse:
    """Where the user is signed in: device, address, when started and last seen."""
    return render(
        request,
        "registration/sessions.html",
        {"sessions": sessions_of(current_user(request), request)},
    )


@login_required
@require_POST
def session_end_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Sign one session out; this one's own goes to the sign-in page."""
    user = current_user(request)
    current = request.session.session_key
    found = user_session_key(user=user, pk=pk)
    if found is None or not session_end(user=user, pk=pk, ip=client_address(request)):
        raise Http404
    if found == current:
        return redirect("account_login")
    messages.success(request, _("That session is signed out."))
    return redirect("sessions")
