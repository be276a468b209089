"""Staff need more than a password: agents, managers and admins reach nothing that shows
customers' data (the desk, the reports, the admin, the API through their session) until
this session has passed a second factor — a code from an authenticator app, a recovery code
or a passkey (django-allauth's MFA). Customers may enrol one too; for them it is asked at
sign-in, never required.

A member of staff with no second factor yet is sent to enrol one; one who has one but whose
session has not used it (signed in before enrolling) is asked for it once. The account pages
themselves (`/accounts/…`: enrolment, sign-out, password) stay reachable.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from urllib.parse import urlencode

from allauth.account.authentication import get_authentication_records
from allauth.account.internal.flows.login import record_authentication
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.adapter import get_adapter as get_mfa_adapter
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from tickets import access, crypto
from tickets.models import User

# Where a member of staff without a second factor may still go.
OPEN_PREFIXES = ("/accounts/", "/static/", "/i18n/", "/jsi18n/", "/favicon")


class MFAAdapter(DefaultMFAAdapter):
    """TOTP secrets are encrypted at rest with the installation's keys (tickets.crypto)."""

    def encrypt(self, text: str) -> str:
        return crypto.encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        return crypto.decrypt(encrypted_text, what="a second-factor secret")

    def get_totp_issuer(self) -> str:
        return "Pacte"


def session_passed_second_factor(session: SessionBase, user: User) -> bool:
    """Whether this session of the user was opened, or confirmed, with a second factor (from an
    HTTP request or a WebSocket's scope alike: allauth reads only the request's session)."""
    request = SimpleNamespace(session=session)
    records = get_authentication_records(request, user)  # type: ignore[arg-type]  # duck-typed
    methods = {"mfa", "socialaccount"} if settings.PACTE_OIDC_TRUSTS_SECOND_FACTOR else {"mfa"}
    return any(record.get("method") in methods for record in records)


def may_reach_staff_pages(session: SessionBase, user: User) -> bool:
    """Staff whose session passed a second factor, and everyone else."""
    return (
        not settings.PACTE_STAFF_SECOND_FACTOR
        or not access.must_pass_second_factor(user)
        or session_passed_second_factor(session, user)
    )


def enrolment_confirms_session(
    *, request: HttpRequest | None, user: User, authenticator: Authenticator, **kwargs: object
) -> None:
    """Adding an authenticator app (a valid code typed) or a passkey (the key answered) proves
    the factor as signing in with it would: the session that enrolled it passed it."""
    if request is not None and authenticator.type != Authenticator.Type.RECOVERY_CODES:
        record_authentication(
            request, user, "mfa", id=authenticator.pk, type=authenticator.type, enrolled=True
        )


class StaffSecondFactorMiddleware:
    """Sends a member of staff whose session has not passed a second factor to enrol one, or to
    confirm with it; an API call through such a session is refused (403)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            isinstance(user, User)
            and not request.path.startswith(OPEN_PREFIXES)
            and not may_reach_staff_pages(request.session, user)
        ):
            return self._refuse(request, user)
        return self.get_response(request)

    def _refuse(self, request: HttpRequest, user: User) -> HttpResponse:
        if request.path.startswith("/api/"):
            return JsonResponse(
                {"detail": _("Staff confirm their second factor before using the API.")},
                status=403,
            )
        if get_mfa_adapter().is_mfa_enabled(user):
            target = reverse("mfa_reauthenticate")
            message = _("Confirm with your second factor to reach the desk.")
        else:
            target = reverse("mfa_index")
            message = _(
                "Support staff need a second factor: add an authenticator app or a passkey "
                "to reach the desk."
            )
        if request.method == "GET":
            target += "?" + urlencode({"next": request.get_full_path()})
            messages.info(request, message)
        if request.headers.get("HX-Request"):  # htmx follows this header with a full page
            return HttpResponse(status=204, headers={"HX-Redirect": target})
        return HttpResponseRedirect(target)
