"""`manage.py backup`: on the embedded SQLite database, a consistent copy of it and its
attachments into PACTE_BACKUP_DIR (var/backups/), keeping the newest PACTE_BACKUP_KEEP. On
PostgreSQL, a pgBackRest backup of the database (--full or --incremental) followed by a restic
snapshot of the attachments, an attachments-only snapshot (--files), or a verification of both
repositories (--verify); each run is recorded for the managers' backups page."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from tickets.backups.sqlite import Backup, BackupError
from tickets.backups.watch import backup_run_and_report, embedded_database
from tickets.models import BackupRun

Kind = BackupRun.Kind


class Command(BaseCommand):
    help = (
        "Back up Pacte: SQLite and its attachments into var/backups/; on PostgreSQL, "
        "pgBackRest and restic (--full, --incremental, --files or --verify)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        kinds = parser.add_mutually_exclusive_group()
        for flag, kind, text in (
            ("--full", Kind.FULL, "a full backup of the database, then the attachments"),
            ("--incremental", Kind.INCREMENTAL, "what changed since the last backup, then "
             "the attachments"),
            ("--files", Kind.FILES, "the attachments only"),
            ("--verify", Kind.VERIFY, "verify both repositories (pgbackrest verify, restic "
             "check)"),
        ):  # fmt: skip
            kinds.add_argument(flag, dest="kind", action="store_const", const=kind, help=text)

    def handle(self, *args: Any, **options: Any) -> None:
        if embedded_database():
            if options["kind"]:
                raise CommandError("On the embedded SQLite database every backup is whole: "
                                   "run it without a kind.")  # fmt: skip
            backup = backup_run_and_report(now=timezone.now(), fail=True)
            assert isinstance(backup, Backup)
            self.stdout.write(
                f"Backup {backup.path}: {backup.files} attachments, "
                f"{backup.size / 1024 / 1024:.1f} MB written."
            )
            return
        if not options["kind"]:
            raise CommandError("On PostgreSQL, pgBackRest and restic take the backups: say which, "
                               "--full, --incremental, --files or --verify.")  # fmt: skip
        try:
            run = backup_run_and_report(now=timezone.now(), kind=options["kind"], fail=True)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self._said(run))

    @staticmethod
    def _said(run: Any) -> str:
        if run.kind == Kind.VERIFY:
            return "Verified: pgBackRest's repository and restic's are sound."
        database = (
            f"database {run.database_label} ({run.database_added / 1024 / 1024:.1f} MB added), "
            if run.database_label
            else ""
        )
        return (
            f"{run.get_kind_display()}: {database}attachments snapshot {run.files_snapshot} "
            f"({run.files_added / 1024 / 1024:.1f} MB added), "
            f"in {run.duration.total_seconds():.1f} s."
        )
