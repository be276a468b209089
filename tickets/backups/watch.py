"""Backups seen and watched: what managers see of them, and the mail when one failed or is
late. For now the embedded SQLite installation's (`sqlite.py`); a PostgreSQL installation's
backups are its operators' tools, which Pacte does not read yet."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.core.mail import EmailMessage
from django.db import connection
from django.utils.translation import gettext as _

from tickets.backups.sqlite import Backup, backup_take, backups_list
from tickets.models import User
from tickets.services.customer_mail import new_mail_id

logger = logging.getLogger(__name__)
LATE_AFTER = timedelta(hours=26)  # a daily backup, with two hours' slack


@dataclass(frozen=True)
class BackupStatus:
    watched: bool  # False: not the embedded database, Pacte does not see its backups
    backups: list[Backup]
    now: datetime

    @property
    def last(self) -> Backup | None:
        return self.backups[0] if self.backups else None

    @property
    def age(self) -> timedelta | None:
        return self.now - self.last.created_at if self.last else None

    @property
    def late(self) -> bool:
        return self.watched and (self.age is None or self.age > LATE_AFTER)


def embedded_database() -> bool:
    """Whether this installation runs on the embedded SQLite database, whose backups Pacte
    takes and watches itself."""
    return connection.vendor == "sqlite"


def backup_status(*, now: datetime) -> BackupStatus:
    if not embedded_database():
        return BackupStatus(watched=False, backups=[], now=now)
    return BackupStatus(watched=True, backups=backups_list(), now=now)


def _mail_managers(subject: str, body: str) -> bool:
    recipients = list(
        User.objects.filter(role=User.Role.MANAGER, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if not recipients:
        return False
    EmailMessage(
        subject,
        body,
        to=recipients,
        headers={"Message-ID": new_mail_id(), "Auto-Submitted": "auto-generated"},
    ).send()
    return True


def backup_run_and_report(*, now: datetime) -> Backup | None:
    """The daily backup; a failure is logged and mailed to the managers, never hidden."""
    try:
        return backup_take(now=now)
    except Exception as error:  # whatever it was (disk full, a file gone…), managers hear of it
        logger.exception("backup failed")
        _mail_managers(
            _("Pacte backup failed"),
            _("Tonight's backup of Pacte failed: %(error)s\n\nNo data was lost; the previous "
              "backups are kept. Run `python manage.py backup` to try again.")
            % {"error": error},
        )  # fmt: skip
        return None


def backup_watch(*, now: datetime) -> bool:
    """Hourly: mail the managers once a day while the last backup is late; True if mailed."""
    status = backup_status(now=now)
    if not status.late:
        return False
    key = f"pacte:backup-late-mailed:{now:%Y-%m-%d}"
    if not cache.add(key, True, timeout=26 * 3600):
        return False
    last = status.last
    if last is None:
        body = _("No backup of Pacte has been taken yet. Check that the beat process runs, and "
                 "run `python manage.py backup`.")  # fmt: skip
    else:
        body = _("The last backup of Pacte was taken %(since)s, more than a day ago. Check that "
                 "the beat process runs, and run `python manage.py backup`.") % {
            "since": last.created_at.strftime("%Y-%m-%d %H:%M UTC")
        }  # fmt: skip
    return _mail_managers(_("Pacte backup late"), body)
