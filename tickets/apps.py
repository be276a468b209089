from __future__ import annotations

import shlex
import shutil
import ssl
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core import checks
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = _("Tickets")

    def ready(self) -> None:
        from allauth.mfa import signals as mfa_signals

        from tickets.accounts import audit, second_factor

        post_migrate.connect(severity_model_keep, sender=self)
        checks.register(email_ca_file_check)
        checks.register(backups_configured_check, deploy=True)
        audit.connect_signals()
        mfa_signals.authenticator_added.connect(
            second_factor.enrolment_confirms_session, dispatch_uid="pacte.enrolment"
        )


def severity_model_keep(**kwargs: Any) -> None:
    """post_migrate: a new installation keeps the severity classifier trained from the
    corpus (tickets.triage; imported here, not at start-up: scikit-learn takes a second)."""
    from tickets.triage.services import corpus_model_keep

    corpus_model_keep(**kwargs)


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


def backups_configured_check(**kwargs: Any) -> list[checks.CheckMessage]:
    """In production on PostgreSQL (`check --deploy`), the database and the attachments need
    their backup tools (the embedded SQLite database is backed up by beat): said before going
    live, not on the day a disk dies."""
    if settings.DEBUG or "sqlite" in settings.DATABASES["default"]["ENGINE"]:
        return []
    if not (settings.PACTE_PGBACKREST_STANZA and settings.PACTE_RESTIC_REPOSITORY):
        return [
            checks.Warning(
                "No backup is configured for this PostgreSQL database and its attachments.",
                hint="Set up pgBackRest and restic (deploy/backup/README.md), then set "
                "PACTE_PGBACKREST_STANZA and PACTE_RESTIC_REPOSITORY.",
                id="pacte.W001",
            )
        ]
    missing = [
        command
        for command in (settings.PACTE_PGBACKREST, settings.PACTE_RESTIC)
        if shutil.which(shlex.split(command)[-1] if command.strip() else "") is None
    ]
    return [
        checks.Warning(
            f"Backups are configured but {command!r} is not installed on this machine.",
            hint="apt-get install pgbackrest restic",
            id="pacte.W002",
        )
        for command in missing
    ]
