"""What Pacte knows of the backups of a PostgreSQL installation: one line per run of
`manage.py backup` (pgBackRest for the database, restic for the attachments), succeeded or
failed. pgBackRest's and restic's own catalogues stay the truth for a restore; these lines are
what managers see and what the watch reads."""

from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.utils.translation import gettext_lazy as _


class BackupRun(models.Model):
    class Kind(models.TextChoices):
        FULL = "full", _("Full backup")
        INCREMENTAL = "incr", _("Incremental backup")
        FILES = "files", _("Attachments only")
        VERIFY = "verify", _("Verification")

    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"))
    succeeded = models.BooleanField(_("succeeded"))
    error = models.TextField(_("error"), blank=True)
    # pgBackRest's label of the database backup (20261205-020000F_20261206-020000I), and the
    # size it added to the repository and the database's size; restic's snapshot of the
    # attachments taken right after it, and what it added.
    database_label = models.CharField(_("database backup"), max_length=64, blank=True)
    database_added = models.BigIntegerField(_("database, added"), null=True, blank=True)
    database_size = models.BigIntegerField(_("database size"), null=True, blank=True)
    files_snapshot = models.CharField(_("attachments snapshot"), max_length=64, blank=True)
    files_added = models.BigIntegerField(_("attachments, added"), null=True, blank=True)
    files_size = models.BigIntegerField(_("attachments size"), null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["kind", "succeeded", "-started_at"])]
        verbose_name = _("backup run")
        verbose_name_plural = _("backup runs")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def duration(self) -> timedelta:
        return self.finished_at - self.started_at

    @property
    def added(self) -> int:
        return (self.database_added or 0) + (self.files_added or 0)
