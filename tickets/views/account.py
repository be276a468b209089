"""The signed-in user's own preferences."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from tickets.models import Language, User
from tickets.services import user_set_language


@require_POST
def language_switch(request: HttpRequest) -> HttpResponse:
    """Django's set_language, which also remembers the choice in the user's profile."""
    user = request.user
    language = request.POST.get("language", "")
    if isinstance(user, User) and user.is_authenticated and language in Language.values:
        user_set_language(user=user, language=language)
    return set_language(request)
