"""Single sign-on for staff with OpenID Connect (the company's Entra ID, Google Workspace or
Keycloak), through django-allauth's `openid_connect` provider.

Pacte's rule: the provider names a person, Pacte decides who may come in. A first sign-in is
linked to the active member of staff whose address the provider vouches for (email_verified);
later ones follow that link. Nobody is created this way: an unknown address, an address the
provider does not vouch for, a customer's account or a turned-off account is refused with a
page saying so.

Second factor: an SSO sign-in counts as passing it (PACTE_OIDC_TRUSTS_SECOND_FACTOR, true by
default): the company's provider enforces its own (Entra ID and Google Workspace conditional
access, Keycloak's OTP), and asking again would make staff keep two. Set it to false to ask for
Pacte's own second factor after the provider's sign-in as well."""

from __future__ import annotations

from typing import Any

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.http import HttpRequest
from django.shortcuts import render
from django.utils.translation import gettext as _

from tickets import access
from tickets.accounts.audit import audit_record
from tickets.models import AuditEvent, User


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest, sociallogin: Any) -> bool:
        return False

    def pre_social_login(self, request: HttpRequest, sociallogin: Any) -> None:
        """Let in only an active member of staff: the one already linked, or the one whose
        address the provider vouches for (then linked)."""
        if sociallogin.is_existing:
            user = sociallogin.user
        else:
            address = _verified_address(sociallogin)
            user = (
                User.objects.filter(email__iexact=address).order_by("-is_active", "pk").first()
                if address
                else None
            )
            if user is None:
                self._refuse(request, sociallogin, "unknown")
        if not isinstance(user, User) or not user.is_active:
            self._refuse(request, sociallogin, "inactive")
        if not access.must_pass_second_factor(user):
            self._refuse(request, sociallogin, "customer")
        if not sociallogin.is_existing:
            sociallogin.connect(request, user)

    def _refuse(self, request: HttpRequest, sociallogin: Any, why: str) -> None:
        address = str(sociallogin.user.email or sociallogin.account.uid)
        audit_record(
            AuditEvent.Kind.SIGN_IN_FAILED,
            target=address,
            request=request,
            detail={"single sign-on": sociallogin.account.provider, "why": why},
        )
        reasons = {
            "unknown": _(
                "Your company's sign-in named an address no member of support has, or one it "
                "does not vouch for. Ask a manager to give your Pacte account that address."
            ),
            "inactive": _("This Pacte account is turned off. Ask a manager."),
            "customer": _(
                "Single sign-on is for support staff. Customers sign in with their password."
            ),
        }
        raise ImmediateHttpResponse(
            render(request, "account/sso_refused.html", {"reason": reasons[why]}, status=403)
        )


def _verified_address(sociallogin: Any) -> str:
    for address in sociallogin.email_addresses:
        # Some providers send the claim as a string: only true (or "true") vouches.
        if _true(address.verified) and address.email:
            return str(address.email)
    claims = sociallogin.account.extra_data or {}
    data = claims.get("userinfo", claims) if isinstance(claims, dict) else {}
    if _true(data.get("email_verified")) and data.get("email"):
        return str(data["email"])
    return ""


def _true(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")
