"""Backups of a PostgreSQL installation: pgBackRest for the database (full weekly,
incremental daily, WAL archived continuously for point-in-time recovery), restic for the
attachments, on the same schedule and more often (hourly, attachments only).

A run backs up the database first, then the attachments: attachment files are written once
and only deleted a day after no row names them (or when a person's data is erased), so the
snapshot taken after a database backup holds every file that backup names.

A restore brings the database back to the end of the archived WAL or to an instant, then the
attachments of the first snapshot taken at or after that instant (the newest one for the
latest state); a file the restored database names that this snapshot lacks is looked for in
the older snapshots. A file that no snapshot holds (stored after the last one, then lost
with the disk) is reported by ticket and name: it cannot be brought back.
"""

from __future__ import annotations

import json
import logging
import re
import shlex
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.utils import OperationalError
from django.utils import timezone

from tickets.backups.sqlite import BackupError
from tickets.models import Attachment, BackupRun

logger = logging.getLogger(__name__)

Kind = BackupRun.Kind
TAG = "pacte"
# Attachment snapshots kept: the last of each of 35 days (the four weeks of pgBackRest's four
# full backups, and a week more) and every one of the last 48 hours.
FILES_KEEP = ("--keep-daily", "35", "--keep-hourly", "48")
READY_TIMEOUT = 600.0  # seconds a restored cluster may take to replay its WAL and open
LABEL_KIND = {"F": Kind.FULL, "D": Kind.INCREMENTAL, "I": Kind.INCREMENTAL}


class BackupNotConfigured(BackupError):
    def __init__(self) -> None:
        super().__init__(
            "No backup is configured: set PACTE_PGBACKREST_STANZA and PACTE_RESTIC_REPOSITORY "
            "(README, 'Backups and restore'; deploy/backup/README.md)."
        )


def configured() -> bool:
    """Whether this installation's database and attachments have their backup tools."""
    return bool(settings.PACTE_PGBACKREST_STANZA and settings.PACTE_RESTIC_REPOSITORY)


def _run(command: list[str], *, cwd: Path | None = None) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, cwd=cwd, check=False)
    except OSError as error:
        raise BackupError(f"{command[0]} could not be started: {error}.") from error
    if done.returncode != 0:
        said = " ".join((done.stderr.strip() or done.stdout.strip()).splitlines()[-3:])
        raise BackupError(
            f"{shlex.join(command[:4])}… failed (exit {done.returncode}): {said or 'no output'}"
        )
    return done.stdout


def pgbackrest(*args: str) -> str:
    prefix = shlex.split(settings.PACTE_PGBACKREST)
    return _run([*prefix, f"--stanza={settings.PACTE_PGBACKREST_STANZA}", *args])


def restic(*args: str, cwd: Path | None = None) -> str:
    command = [*shlex.split(settings.PACTE_RESTIC), "--repo", settings.PACTE_RESTIC_REPOSITORY]
    if settings.PACTE_RESTIC_PASSWORD_FILE:
        command += ["--password-file", settings.PACTE_RESTIC_PASSWORD_FILE]
    return _run([*command, *args], cwd=cwd)


def _media_root() -> Path:
    """The attachments' folder, never empty: restic refuses to snapshot an empty one (a new
    installation's), so it keeps a small marker file."""
    root = Path(settings.MEDIA_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    marker = root / ".pacte-media"
    if not marker.exists():
        marker.write_text("Pacte's attachments; backed up by restic (deploy/backup/).\n")
    return root


def _restic_time(text: str) -> datetime:
    """restic's RFC 3339 times carry nanoseconds and their own offset."""
    match = re.fullmatch(r"([^.]+?)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", text)
    if match is None:
        raise BackupError(f"restic gave a time Pacte does not read: {text}")
    whole, fraction, offset = match.groups()
    return datetime.fromisoformat(
        f"{whole}.{(fraction or '0')[:6].ljust(6, '0')}{'+00:00' if offset == 'Z' else offset}"
    ).astimezone(UTC)


@dataclass(frozen=True)
class Snapshot:
    id: str
    time: datetime
    tags: tuple[str, ...]


def snapshots() -> list[Snapshot]:
    """The attachment snapshots in the restic repository, oldest first."""
    found = json.loads(restic("snapshots", "--json", "--tag", TAG) or "[]")
    return sorted(
        (Snapshot(s["id"], _restic_time(s["time"]), tuple(s["tags"])) for s in found),
        key=lambda s: s.time,
    )


def database_backups() -> list[dict[str, Any]]:
    """pgBackRest's catalogue of this stanza's database backups, oldest first."""
    stanzas = json.loads(pgbackrest("info", "--output=json"))
    return list(stanzas[0].get("backup", [])) if stanzas else []


def _files_snapshot(tags: Iterable[str]) -> dict[str, Any]:
    flags = [f for tag in (TAG, *tags) for f in ("--tag", tag)]
    out = restic("backup", "--json", "--host", "pacte", *flags, ".", cwd=_media_root())
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    summary = next((line for line in lines if line.get("message_type") == "summary"), None)
    if summary is None:
        raise BackupError("restic did not report the snapshot it took.")
    return summary


def _database_backup(kind: str) -> dict[str, Any]:
    pgbackrest("backup", f"--type={kind}")
    # The newest backup is the one just made (a second repository's backups are listed too).
    return max(database_backups(), key=lambda backup: backup["timestamp"]["stop"])


def _take(run: BackupRun) -> None:
    if run.kind == Kind.VERIFY:
        # pgBackRest verifies an empty repository without a word: there must be something.
        if not database_backups():
            raise BackupError("pgBackRest holds no backup of this database to verify.")
        if not snapshots():
            raise BackupError("restic holds no snapshot of the attachments to verify.")
        pgbackrest("verify")
        restic("check", "--read-data-subset=10%")
        return
    tags: list[str] = []
    if run.kind != Kind.FILES:
        made = _database_backup(run.kind)
        run.database_label = made["label"]
        run.kind = LABEL_KIND.get(made["label"][-1], run.kind)  # no full yet: pgBackRest made one
        run.database_added = made["info"]["repository"]["delta"]
        run.database_size = made["info"]["size"]
        tags.append(f"db:{made['label']}")
    summary = _files_snapshot(tags)
    run.files_snapshot = summary["snapshot_id"]
    run.files_added = summary["data_added"]
    run.files_size = summary["total_bytes_processed"]
    if run.kind == Kind.FULL:
        restic("forget", "--tag", TAG, *FILES_KEEP, "--prune")


def postgres_backup(kind: str, *, now: Callable[[], datetime] = timezone.now) -> BackupRun:
    """Take a backup of `kind` (full, incr, files or verify) and record it, succeeded or
    failed; a failure is raised after it is recorded."""
    if not configured():
        raise BackupNotConfigured
    run = BackupRun(kind=kind, started_at=now())
    try:
        _take(run)
    except BackupError as error:
        run.succeeded, run.error = False, str(error)
        raise
    else:
        run.succeeded = True
    finally:
        run.finished_at = now()
        run.save()
    return run


@dataclass
class RestoreReport:
    target: datetime | None
    snapshot: Snapshot | None = None
    files: int = 0
    found_earlier: list[str] = field(default_factory=list)
    lost: list[Attachment] = field(default_factory=list)


def _shell(command: str, what: str) -> None:
    if not command:
        raise BackupError(
            f"Set PACTE_POSTGRES_{what.upper()} to the command that {what}s the PostgreSQL "
            f"cluster (for example `systemctl {what} postgresql@15-main`)."
        )
    _run(shlex.split(command))


def _database_open(deadline: float) -> None:
    """Wait until the restored cluster has replayed its WAL and accepts writes."""
    while True:
        connection.close()
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_is_in_recovery()")
                if not cursor.fetchone()[0]:
                    return
        except OperationalError:
            pass
        if time.monotonic() > deadline:
            raise BackupError(
                "The restored cluster did not open in time: read PostgreSQL's log (a target "
                "instant after the last archived WAL is refused by PostgreSQL)."
            )
        time.sleep(0.5)


def restore_check(target: datetime | None) -> None:
    """Refuse a restore that cannot succeed, before anything is stopped."""
    if not configured():
        raise BackupNotConfigured
    backups = database_backups()
    if not backups:
        raise BackupError("pgBackRest holds no backup of this database.")
    if not snapshots():
        raise BackupError("restic holds no snapshot of the attachments.")
    if target is not None:
        first = datetime.fromtimestamp(backups[0]["timestamp"]["stop"], UTC)
        if target < first:
            raise BackupError(f"The oldest backup kept ended at {first:%Y-%m-%d %H:%M:%S} UTC: "
                              "no earlier instant can be restored.")  # fmt: skip
        if target > timezone.now():
            raise BackupError("That instant is in the future.")


def database_restore(target: datetime | None) -> None:
    """Stop the cluster, restore it with pgBackRest (to the end of the archived WAL, or to
    `target`), start it and wait until it is open."""
    connection.close()
    try:
        _shell(settings.PACTE_POSTGRES_STOP, "stop")
    except BackupError as error:
        # A cluster lost with its disk does not stop; one still running is refused by
        # pgBackRest itself, which will not restore under a running PostgreSQL.
        logger.warning("stopping PostgreSQL before the restore: %s", error)
    args = ["restore", "--delta"]
    if target is not None:
        instant = target.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00")
        args += ["--type=time", f"--target={instant}", "--target-action=promote"]
    pgbackrest(*args)
    _shell(settings.PACTE_POSTGRES_START, "start")
    _database_open(time.monotonic() + READY_TIMEOUT)


def _missing(names: Iterable[str], root: Path) -> list[str]:
    return [name for name in names if not (root / name).is_file()]


def files_restore(target: datetime | None) -> RestoreReport:
    """Bring back the attachments of the restored database's moment; report those lost."""
    report = RestoreReport(target)
    kept = snapshots()
    later = [s for s in kept if target is None or s.time >= target]
    chosen = later[0] if target is not None and later else kept[-1]
    report.snapshot = chosen
    root = _media_root()
    restic("restore", chosen.id, "--target", str(root))
    names = list(Attachment.objects.exclude(file="").values_list("file", flat=True))
    report.files = len(names)
    missing = _missing(names, root)
    for older in reversed([s for s in kept if s.time < chosen.time]):
        if not missing:
            break
        includes = [f for name in missing for f in ("--include", f"/{name}")]
        restic("restore", older.id, "--target", str(root), *includes)
        still = _missing(missing, root)
        report.found_earlier += [name for name in missing if name not in still]
        missing = still
    report.lost = list(
        Attachment.objects.filter(file__in=missing).select_related("ticket").order_by("pk")
    )
    return report
