"""`manage.py backup`: a consistent copy of the embedded SQLite database and its attachments,
into PACTE_BACKUP_DIR (var/backups/), keeping the newest PACTE_BACKUP_KEEP."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tickets.backups.sqlite import BackupError, backup_take


class Command(BaseCommand):
    help = "Back up the SQLite database and its attachments into var/backups/."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            backup = backup_take()
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Backup {backup.path}: {backup.files} attachments, "
            f"{backup.size / 1024 / 1024:.1f} MB written."
        )
