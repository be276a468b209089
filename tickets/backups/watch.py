"""Backups seen and watched: what managers see of them, and the mail when one failed or is
late. The embedded SQLite installation's backups are folders (`sqlite.py`); a PostgreSQL
installation's are the runs of `manage.py backup` recorded as BackupRun (`postgres.py`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.cache import cache
from django.core.mail import EmailMessage
from django.db import connection
from django.utils.translation import gettext as _

from tickets.backups import postgres
from tickets.backups.sqlite import Backup, BackupError, backup_take, backups_list
from tickets.models import BackupRun, User
from tickets.services.customer_mail import new_mail_id

logger = logging.getLogger(__name__)
LATE_AFTER = timedelta(hours=26)  # a daily backup, with two hours' slack
FULL_LATE_AFTER = timedelta(days=8)  # a weekly full backup, with a day's slack
SHOWN = 60  # runs listed on the managers' page
Kind = BackupRun.Kind
DATABASE_KINDS = (Kind.FULL, Kind.INCREMENTAL)


def embedded_database() -> bool:
    """Whether this installation runs on the embedded SQLite database, whose backups Pacte
    takes and watches itself."""
    return connection.vendor == "sqlite"


@dataclass(frozen=True)
class BackupStatus:
    watched: bool  # False: PostgreSQL with no backup configured
    embedded: bool
    now: datetime
    backups: list[Backup] = field(default_factory=list)  # SQLite
    runs: list[BackupRun] = field(default_factory=list)  # PostgreSQL, newest first

    def _last(self, kinds: tuple[str, ...]) -> datetime | None:
        if self.embedded:
            return self.backups[0].created_at if self.backups else None
        done = (r.finished_at for r in self.runs if r.succeeded and r.kind in kinds)
        return next(done, None)

    @property
    def last_at(self) -> datetime | None:
        return self._last(DATABASE_KINDS)

    @property
    def age(self) -> timedelta | None:
        last = self.last_at
        return self.now - last if last else None

    @property
    def full_age(self) -> timedelta | None:
        last = self._last((Kind.FULL,))
        return self.now - last if last else None

    @property
    def late_reasons(self) -> list[str]:
        if not self.watched:
            return []
        reasons = []
        if self.age is None:
            reasons.append(_("No backup has been taken yet."))
        elif self.age > LATE_AFTER:
            reasons.append(_("No backup of the database for %(hours)d hours.")
                           % {"hours": self.age.total_seconds() // 3600})  # fmt: skip
        full_late = self.full_age is None or self.full_age > FULL_LATE_AFTER
        if not self.embedded and self.age is not None and full_late:
            reasons.append(_("No full backup for more than %(days)d days.")
                           % {"days": FULL_LATE_AFTER.days})  # fmt: skip
        return reasons

    @property
    def late(self) -> bool:
        return bool(self.late_reasons)


def backup_status(*, now: datetime) -> BackupStatus:
    if embedded_database():
        return BackupStatus(watched=True, embedded=True, now=now, backups=backups_list())
    runs = list(BackupRun.objects.all()[:SHOWN])
    # The last full backup may be older than the runs listed.
    full = BackupRun.objects.filter(kind=Kind.FULL, succeeded=True).first()
    if full is not None and full not in runs:
        runs.append(full)
    watched = postgres.configured() or bool(runs)
    return BackupStatus(watched=watched, embedded=False, now=now, runs=runs)


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


def backup_run_and_report(
    *, now: datetime, kind: str | None = None, fail: bool = False
) -> Backup | BackupRun | None:
    """Take a backup (SQLite's, or on PostgreSQL a run of `kind`); a failure is logged and
    mailed to the managers, never hidden, then raised when `fail`."""
    try:
        if kind is None:
            return backup_take(now=now)
        return postgres.postgres_backup(kind)
    except Exception as error:  # whatever it was (disk full, a file gone…), managers hear of it
        logger.exception("backup failed")
        what = dict(Kind.choices).get(kind or "", _("Backup"))
        command = f"python manage.py backup{f' --{kind}' if kind else ''}".replace(
            "--incr", "--incremental"
        )
        _mail_managers(
            _("Pacte backup failed"),
            _("%(what)s of Pacte failed: %(error)s\n\nNo data was lost; the previous backups "
              "are kept. Run `%(command)s` to try again.")
            % {"what": what, "error": error, "command": command},
        )  # fmt: skip
        if fail and isinstance(error, BackupError):
            raise
        if fail:
            raise BackupError(str(error)) from error
        return None


def backup_watch(*, now: datetime) -> bool:
    """Hourly: mail the managers once a day while backups are late; True if mailed."""
    status = backup_status(now=now)
    if not status.late:
        return False
    key = f"pacte:backup-late-mailed:{now:%Y-%m-%d}"
    if not cache.add(key, True, timeout=26 * 3600):
        return False
    last = status.last_at
    since = (
        _("The last backup of Pacte was taken %(since)s.")
        % {"since": last.strftime("%Y-%m-%d %H:%M UTC")}
        if last
        else ""
    )
    check = (
        _("Check that the beat process runs, and run `python manage.py backup`.")
        if status.embedded
        else _("Check the backup timers (deploy/backup/README.md) and the output of "
               "`python manage.py backup --incremental`.")
    )  # fmt: skip
    body = "\n\n".join(p for p in (" ".join(status.late_reasons), since, check) if p)
    return _mail_managers(_("Pacte backup late"), body)
