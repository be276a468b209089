"""Backups seen and watched: what managers see of them, and the mail when one failed or is
late. The embedded SQLite installation's backups are folders (`sqlite.py`); a PostgreSQL
installation's are the runs of `manage.py backup` recorded as BackupRun (`postgres.py`).

Each manager is mailed in their own language and time zone, at most once a day for each
kind of failure and once a day while backups are late. On SQLite the watch takes the backup
itself when it finds none for a day (a fresh installation, a night the beat was down)."""

from __future__ import annotations

import logging
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMessage
from django.db import connection
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from tickets.backups import postgres
from tickets.backups.sqlite import Backup, BackupError, backup_take, backups_list
from tickets.models import BackupRun, User
from tickets.services.customer_mail import new_mail_id

logger = logging.getLogger(__name__)
LATE_AFTER = timedelta(hours=26)  # a daily backup, with two hours' slack
FULL_LATE_AFTER = timedelta(days=8)  # a weekly full backup, with a day's slack
SHOWN_DAYS = 35  # runs listed on the managers' page, hourly attachment snapshots aside
Kind = BackupRun.Kind
DATABASE_KINDS = (Kind.FULL, Kind.INCREMENTAL)
UNITS: dict[str, str] = {kind: f"pacte-backup-{name}.service" for kind, name in
         ((Kind.FULL, "full"), (Kind.INCREMENTAL, "incremental"), (Kind.FILES, "files"),
          (Kind.VERIFY, "verify"))}  # fmt: skip


def embedded_database() -> bool:
    """Whether this installation runs on the embedded SQLite database, whose backups Pacte
    takes and watches itself."""
    return connection.vendor == "sqlite"


@dataclass(frozen=True)
class BackupStatus:
    configured: bool  # False: PostgreSQL with no backup tools set
    embedded: bool
    now: datetime
    backups: list[Backup] = field(default_factory=list)  # SQLite
    runs: list[BackupRun] = field(default_factory=list)  # PostgreSQL, newest first
    hidden: int = 0  # attachment snapshots that went well, not listed

    def _last(self, kinds: tuple[str, ...]) -> BackupRun | None:
        return next((r for r in self.runs if r.succeeded and r.kind in kinds), None)

    @property
    def last_at(self) -> datetime | None:
        if self.embedded:
            return self.backups[0].created_at if self.backups else None
        last = self._last(DATABASE_KINDS)
        return last.finished_at if last else None

    @property
    def full_at(self) -> datetime | None:
        last = self._last((Kind.FULL,))
        return last.finished_at if last else None

    @property
    def age(self) -> timedelta | None:
        return self.now - self.last_at if self.last_at else None

    @property
    def full_age(self) -> timedelta | None:
        return self.now - self.full_at if self.full_at else None

    @property
    def failures(self) -> list[BackupRun]:
        """The newest run of each kind, when it failed."""
        newest: dict[str, BackupRun] = {}
        for run in self.runs:
            newest.setdefault(run.kind, run)
        return [run for run in newest.values() if not run.succeeded]

    @property
    def late_reasons(self) -> list[str]:
        if not self.configured:
            return [] if settings.DEBUG else [_("No backup is configured for this database.")]
        reasons = []
        if self.age is None:
            reasons.append(_("No backup has been taken yet."))
        elif self.age > LATE_AFTER:
            reasons.append(_("No backup of the database for %(hours)d hours.")
                           % {"hours": self.age.total_seconds() // 3600})  # fmt: skip
        if self.embedded or self.age is None:
            return reasons
        if self.full_at is None:
            reasons.append(_("No full backup has been taken yet."))
        elif self.now - self.full_at > FULL_LATE_AFTER:
            reasons.append(
                _("No full backup for more than %(days)d days: the last one was taken on "
                  "%(when)s.") % {"days": FULL_LATE_AFTER.days, "when": when(self.full_at)}
            )  # fmt: skip
        return reasons

    @property
    def late(self) -> bool:
        return bool(self.late_reasons)


def _runs_shown(now: datetime) -> tuple[list[BackupRun], int]:
    """The database backups, verifications and failures of the last weeks, the newest
    attachment snapshot, and the last full backup however old; how many snapshots that went
    well are left out."""
    since = now - timedelta(days=SHOWN_DAYS)
    recent = BackupRun.objects.filter(started_at__gte=since)
    snapshots = recent.filter(kind=Kind.FILES, succeeded=True)
    runs = list(recent.exclude(kind=Kind.FILES, succeeded=True))
    runs += [r for r in (snapshots.first(), _last_full()) if r is not None and r not in runs]
    runs.sort(key=lambda run: (run.started_at, run.pk), reverse=True)
    return runs, max(snapshots.count() - 1, 0)


def _last_full() -> BackupRun | None:
    return BackupRun.objects.filter(kind=Kind.FULL, succeeded=True).first()


def backup_status(*, now: datetime) -> BackupStatus:
    if embedded_database():
        return BackupStatus(configured=True, embedded=True, now=now, backups=backups_list())
    runs, hidden = _runs_shown(now)
    configured = postgres.configured() or bool(runs)
    return BackupStatus(configured=configured, embedded=False, now=now, runs=runs, hidden=hidden)


def when(instant: datetime) -> str:
    """An instant as the reader reads it: in the active language and time zone."""
    local = timezone.localtime(instant)
    return f"{formats.date_format(local, 'DATETIME_FORMAT')} ({local.tzname()})"


def _mail_managers(subject: Callable[[], str], body: Callable[[], str]) -> bool:
    """Mail each active manager, subject and body written in their language and zone."""
    managers = User.objects.filter(role=User.Role.MANAGER, is_active=True).exclude(email="")
    page = settings.PACTE_BASE_URL + reverse("desk:backups")
    for manager in managers:
        try:
            zone = zoneinfo.ZoneInfo(manager.time_zone or settings.TIME_ZONE)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        language = manager.language or settings.LANGUAGE_CODE
        with translation.override(language), timezone.override(zone):
            link = _("The backups: %(url)s") % {"url": page}
            text = f"{body()}\n\n{link}\n"
            EmailMessage(
                subject(),
                text,
                to=[manager.email],
                headers={"Message-ID": new_mail_id(), "Auto-Submitted": "auto-generated"},
            ).send()
    return managers.exists()


def _failed_sentence(kind: str | None) -> str:
    sentences: dict[str, str] = {
        Kind.FULL: _("The full backup of Pacte failed on %(when)s."),
        Kind.INCREMENTAL: _("The incremental backup of Pacte failed on %(when)s."),
        Kind.FILES: _("The backup of Pacte's attachments failed on %(when)s."),
        Kind.VERIFY: _("The verification of Pacte's backups failed on %(when)s."),
    }
    return sentences.get(kind or "", _("The backup of Pacte failed on %(when)s."))


def _failure_mail(kind: str | None, error: Exception, at: datetime) -> None:
    key = f"pacte:backup-failed-mailed:{kind or 'sqlite'}:{at:%Y-%m-%d}"
    if not cache.add(key, True, timeout=26 * 3600):
        return  # once a day for each kind: an hourly snapshot failing does not mail 24 times

    def body() -> str:
        again = (
            _("Pacte tries again tonight. To try now, run `python manage.py backup` where "
              "Pacte runs.")
            if kind is None
            else _("To try again now, run `systemctl start %(unit)s` on the database machine "
                   "(deploy/backup/README.md).") % {"unit": UNITS[kind]}
        )  # fmt: skip
        facts = _failed_sentence(kind) % {"when": when(at)}
        kept = _("The backups taken before are kept.")
        return f"{facts}\n\n{error}\n\n{kept} {again}"

    _mail_managers(lambda: _("Pacte backup failed"), body)


def backup_run_and_report(
    *, now: datetime, kind: str | None = None, fail: bool = False
) -> Backup | BackupRun | None:
    """Take a backup (SQLite's, or on PostgreSQL a run of `kind`); a failure is logged and
    mailed to the managers, never hidden, then raised when `fail`. A PostgreSQL installation
    with no backup configured is refused at once, mailing nobody."""
    if kind is not None and not postgres.configured():
        raise postgres.BackupNotConfigured
    try:
        if kind is None:
            return backup_take(now=now)
        return postgres.postgres_backup(kind)
    except Exception as error:  # whatever it was (disk full, a file gone…), managers hear of it
        logger.error("backup failed: %s", error, exc_info=not isinstance(error, BackupError))
        _failure_mail(kind, error, now)
        if fail and isinstance(error, BackupError):
            raise
        if fail:
            raise BackupError(str(error)) from error
        return None


def backup_watch(*, now: datetime) -> bool:
    """Hourly: on SQLite, take the backup at once when the last is a day old; on PostgreSQL,
    mail the managers once a day while backups are late. True if a manager was mailed."""
    status = backup_status(now=now)
    if not status.late:
        return False
    if status.embedded:
        backup_run_and_report(now=now)  # a failure is mailed there
        return False
    if not cache.add(f"pacte:backup-late-mailed:{now:%Y-%m-%d}", True, timeout=26 * 3600):
        return False

    def body() -> str:
        facts = " ".join(status.late_reasons)  # read now: in the reader's language
        if status.last_at is not None:
            facts += " " + _("The last backup of the database was taken on %(when)s.") % {
                "when": when(status.last_at)
            }
        return f"{facts}\n\n" + _(
            "Ask whoever runs Pacte's server to check the backup timers (deploy/backup/README.md)."
        )

    return _mail_managers(lambda: _("Pacte backup late"), body)
