"""`manage.py restore PATH`: the database and attachments of a backup brought back, after
confirmation; a damaged or mismatched backup is refused and nothing changes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tickets.backups.sqlite import BackupError, backup_check, backup_restore


class Command(BaseCommand):
    help = "Restore a backup taken by `manage.py backup` (stop Pacte's processes first)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="a folder of var/backups/")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        try:
            manifest = backup_check(path)
        except BackupError as error:
            raise CommandError(f"Refused: {error} Nothing was changed.") from error
        tickets = manifest["tables"].get("tickets_ticket", 0)
        self.stdout.write(
            f"Backup of {manifest['created_at']}: {tickets} tickets, "
            f"{len(manifest['files'])} attachments. It replaces everything Pacte holds now."
        )
        if not options["yes"] and input("Type 'restore' to go on: ").strip() != "restore":
            raise CommandError("Not confirmed: nothing was changed.")
        try:
            backup_restore(path)
        except BackupError as error:
            raise CommandError(str(error)) from error
        call_command("migrate", verbosity=0)
        self.stdout.write(self.style.SUCCESS("Restored. Start Pacte's processes again."))
