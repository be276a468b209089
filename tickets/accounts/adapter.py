"""How django-allauth behaves in Pacte (``ACCOUNT_ADAPTER``), and the hooks the settings name."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.stagekit import clear_login
from axes.utils import reset as reset_attempts
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.mail import EmailMultiAlternatives
from django.http import HttpRequest
from django.utils import timezone, translation

from sla.contracts import filing_refused_reason
from tickets import access
from tickets.accounts.audit import audit_record
from tickets.models import AuditEvent, OutboundMail, User
from tickets.services.customer_mail import new_mail_id


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        """Nobody signs up: an organization's admin invites colleagues, support creates staff."""
        return False

    def pre_login(self, request: HttpRequest, user: AbstractBaseUser, **kwargs: Any) -> Any:
        """Customers sign in only as contacts of an organization under contract."""
        if (
            isinstance(user, User)
            and not access.must_pass_second_factor(user)  # staff and admins sign in
            and not access.customer_may_sign_in(user)
        ):
            clear_login(request)
            contact = access.contact_of(user)
            if contact is not None and not contact.organization.under_contract:
                # The page it lands on says why: the contract's end, or its first day.
                with translation.override(user.language or translation.get_language()):
                    request.session["pacte_contract_refusal"] = filing_refused_reason(
                        contact.organization, now=timezone.now()
                    )
            return self.respond_user_inactive(request, user)
        return super().pre_login(request, user, **kwargs)

    def set_password(self, user: AbstractBaseUser, password: str) -> None:
        """A new password (reset by mail, or changed) also ends a sign-in pause for wrong
        passwords: whoever guessed no longer knows more than anyone."""
        super().set_password(user, password)
        reset_attempts(username=user.get_username())

    def send_notification_mail(
        self,
        template_prefix: str,
        user: AbstractBaseUser,
        context: dict[str, Any] | None = None,
        email: str | None = None,
    ) -> None:
        """A change to the account, mailed to its owner: by name, in their language."""
        email = email or getattr(user, "email", "") or None
        super().send_notification_mail(
            template_prefix, user, {**(context or {}), "user": user}, email
        )

    def send_password_reset_mail(
        self, user: AbstractBaseUser, email: str, context: dict[str, Any]
    ) -> None:
        audit_record(
            AuditEvent.Kind.PASSWORD_RESET_ASKED,
            target=user.get_username(),
            request=self.request,
            detail={"address": email},
        )
        super().send_password_reset_mail(user, email, context)

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        """Written to the outbox, in the recipient's language, and sent by the mail sweep like
        every mail Pacte sends: an SMTP outage delays a reset link, it never loses it nor fails
        the page."""
        user = context.get("user")
        language = (
            user.language if isinstance(user, User) and user.language else None
        ) or translation.get_language()
        with translation.override(language):
            message = self.render_mail(
                template_prefix,
                email,
                {**context, "email": email, "reset_hours": settings.PASSWORD_RESET_TIMEOUT // 3600},
            )
        html = ""
        if isinstance(message, EmailMultiAlternatives):
            html = next(
                (str(body) for body, kind in message.alternatives if kind == "text/html"), ""
            )
        OutboundMail.objects.create(
            kind=OutboundMail.Kind.ACCOUNT,
            from_address=message.from_email,
            to_address=email,
            to_name=user.get_full_name() if isinstance(user, User) else "",
            language=language,
            subject=message.subject[:255],
            text=str(message.body),
            html=html,
            mail_id=new_mail_id(),
        )


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """The identifier django-axes counts failures for: the sign-in form's "login" field (a
    username or an address), the API token endpoint's "username"."""
    credentials = credentials or {}
    for key in ("username", "email"):
        if credentials.get(key):
            return str(credentials[key])
    posted = request.POST.get("login") or request.POST.get("username")
    if posted:
        return posted
    return None


def user_display(user: User) -> str:
    return user.get_full_name() or user.username
