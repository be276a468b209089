"""`manage.py restore`: bring Pacte back from a backup, after confirmation (stop Pacte's
processes first). On the embedded SQLite database, `restore PATH` with a folder of
var/backups/. On PostgreSQL, `restore --latest` (the end of the archived WAL) or
`restore --to INSTANT`: pgBackRest restores the database, restic the attachments of that
moment. A backup that cannot serve is refused and nothing changes."""

from __future__ import annotations

from argparse import ArgumentTypeError
from datetime import datetime
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from tickets.backups import postgres
from tickets.backups.sqlite import (
    BackupError,
    backup_check,
    backup_restore,
    backups_dir,
    backups_list,
)
from tickets.backups.watch import embedded_database


def _instant(text: str) -> datetime:
    try:
        parsed = parse_datetime(text.strip())
    except ValueError:
        parsed = None
    if parsed is None:
        raise ArgumentTypeError(f"not an instant: {text!r} (write 2026-12-05 14:30+01:00)")
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


def _known_backups() -> str:
    found = backups_list()
    if not found:
        return f"There is no backup in {backups_dir()} yet: take one with `manage.py backup`."
    names = ", ".join(backup.path.name for backup in found[:5])
    return f"The newest in {backups_dir()}: {names}."


class Command(BaseCommand):
    help = (
        "Restore a backup: `restore PATH` on SQLite (a folder of var/backups/); "
        "`restore --latest` or `restore --to INSTANT` on PostgreSQL. Stop Pacte's processes first."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, nargs="?", help="a folder of var/backups/")
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--latest", action="store_true", help="PostgreSQL: the latest state")
        which.add_argument(
            "--to", type=_instant, help="PostgreSQL: the state at this instant (ISO 8601; "
            "without an offset, in TIME_ZONE)"
        )  # fmt: skip
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def _confirm(self, options: dict[str, Any]) -> None:
        if not options["yes"] and input("Type 'restore' to go on: ").strip() != "restore":
            raise CommandError("Not confirmed: nothing was changed.")

    def handle(self, *args: Any, **options: Any) -> None:
        if embedded_database():
            if options["path"] is None or options["latest"] or options["to"]:
                raise CommandError(
                    "On the embedded SQLite database, name the backup to restore: "
                    f"restore <folder>. {_known_backups()}"
                )
            self._sqlite(options)
        else:
            if options["path"] is not None or not (options["latest"] or options["to"]):
                raise CommandError(
                    "On PostgreSQL say which state: --latest or --to INSTANT "
                    "(no folder: pgBackRest and restic hold the backups)."
                )
            self._postgres(options)
        call_command("migrate", verbosity=0)
        call_command("migrate", check=True, verbosity=0)
        self.stdout.write(self.style.SUCCESS("Restored. Start Pacte's processes again."))

    def _sqlite(self, options: dict[str, Any]) -> None:
        path: Path = options["path"]
        if not path.exists() and (backups_dir() / path).exists():
            path = backups_dir() / path  # the folder's name alone
        if not path.is_dir():
            raise CommandError(f"No backup folder at {path}. {_known_backups()}")
        try:
            manifest = backup_check(path)
        except BackupError as error:
            raise CommandError(f"Refused: {error} Nothing was changed.") from error
        tickets = manifest["tables"].get("tickets_ticket", 0)
        self.stdout.write(
            f"Backup of {manifest['created_at']}: {tickets} tickets, "
            f"{len(manifest['files'])} attachments. It replaces everything Pacte holds now."
        )
        self._confirm(options)
        try:
            backup_restore(path)
        except BackupError as error:
            raise CommandError(str(error)) from error

    def _postgres(self, options: dict[str, Any]) -> None:
        target: datetime | None = options["to"]
        try:
            postgres.restore_check(target)
        except BackupError as error:
            raise CommandError(f"Refused: {error} Nothing was changed.") from error
        moment = f"as it was at {target.isoformat()}" if target else "to its latest state"
        self.stdout.write(f"The database and attachments will be brought back {moment}. "
                          "It replaces everything Pacte holds now.")  # fmt: skip
        self._confirm(options)
        try:
            postgres.database_restore(target)
            report = postgres.files_restore(target)
        except BackupError as error:
            raise CommandError(str(error)) from error
        assert report.snapshot is not None
        self.stdout.write(
            f"Database restored; attachments from snapshot {report.snapshot.id[:8]} of "
            f"{report.snapshot.time:%Y-%m-%d %H:%M:%S} UTC: {report.files} named, "
            f"{len(report.found_earlier)} found in older snapshots."
        )
        for lost in report.lost:
            self.stderr.write(f"Lost (stored after the last snapshot): {lost.ticket.reference} "
                              f"{lost.filename} ({lost.file.name})")  # fmt: skip
