"""The signed-in user's own preferences."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django.views.i18n import set_language

from tickets.exceptions import TicketError
from tickets.forms import PreferencesForm
from tickets.models import Language, User
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
        request.POST or None, initial={"language": user.language, "time_zone": user.time_zone}
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
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )
