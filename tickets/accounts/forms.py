"""django-allauth's forms as Pacte shows them (``ACCOUNT_FORMS``)."""

from __future__ import annotations

from typing import Any

from allauth.account.forms import LoginForm as AllauthLoginForm
from allauth.account.forms import ResetPasswordForm as AllauthResetPasswordForm

from tickets.models import Contact


class LoginForm(AllauthLoginForm):
    """Labels rather than placeholders, and the reset link once, under the form."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.pop("placeholder", None)
        self.fields["password"].help_text = ""


class ResetPasswordForm(AllauthResetPasswordForm):
    """A customer is also found by their contact address (the one their organization knows and
    their tickets are mailed to), which may differ from their account's."""

    def clean_email(self) -> str:
        email = super().clean_email()
        known = {user.pk for user in self.users}
        for contact in Contact.objects.filter(
            email__iexact=email, user__isnull=False, user__is_active=True
        ).select_related("user"):
            if contact.user is not None and contact.user.pk not in known:
                self.users.append(contact.user)
        return email
