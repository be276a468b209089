from __future__ import annotations

import ssl
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core import checks
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = _("Tickets")

    def ready(self) -> None:
        from allauth.mfa import signals as mfa_signals

        from tickets.accounts import audit, second_factor

        checks.register(email_ca_file_check)
        audit.connect_signals()
        mfa_signals.authenticator_added.connect(
            second_factor.enrolment_confirms_session, dispatch_uid="pacte.enrolment"
        )


def email_ca_file_check(**kwargs: Any) -> list[checks.CheckMessage]:
    """PACTE_EMAIL_CA_FILE, when set, must be a PEM bundle Pacte can read: found at start-up,
    not on the first mail the outbox fails to send."""
    from tickets.channels.email.tls import client_context  # the app registry is ready by now

    path = settings.PACTE_EMAIL_CA_FILE
    if not path:
        return []
    try:
        client_context(ca_file=path)
    except (OSError, ssl.SSLError) as exc:
        return [
            checks.Error(
                f"PACTE_EMAIL_CA_FILE={path} cannot be read as a PEM CA bundle: {exc}",
                hint="Point it at the PEM file of the CA that signed the SMTP server's "
                "certificate, or unset it to trust the system's store.",
                id="pacte.E002",
            )
        ]
    return []
