"""Backups of the embedded SQLite database and its attachments, into var/backups/.

A backup is a folder named by its UTC time: ``db.sqlite3``, taken through SQLite's online
backup API (a consistent copy while Pacte runs), the attachment files that copy names under
``media/``, and ``manifest.json`` with each file's SHA-256 and size, the rows of each table and
the migrations the database had. Files already in the previous backup, unchanged and sound
there, are hard links to it (attachments never change once stored), so a daily backup costs
only what is new.
The newest PACTE_BACKUP_KEEP backups are kept.

A restore checks everything first: a file missing, of another size or checksum, or a database
with migrations this code does not know, is refused with the reason, and nothing is changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection
from django.db.migrations.loader import MigrationLoader

MANIFEST = "manifest.json"
DATABASE_FILE = "db.sqlite3"
MEDIA = "media"
FORMAT = 1


class BackupError(Exception):
    """A backup that cannot be taken, or one that is refused for a restore; says why."""


@dataclass(frozen=True)
class Backup:
    path: Path
    created_at: datetime
    size: int  # bytes written for this backup (hard links to the previous one not counted)
    files: int


def backups_dir() -> Path:
    return Path(settings.PACTE_BACKUP_DIR)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _database_path() -> Path:
    if connection.vendor != "sqlite":
        raise BackupError(
            "This installation runs on PostgreSQL: its backups are pgBackRest's and restic's "
            "(README, 'Backups and restore'), not this command's."
        )
    return Path(str(connection.settings_dict["NAME"]))


def _tables(database: sqlite3.Connection) -> dict[str, int]:
    names = [
        row[0]
        for row in database.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return {
        name: database.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0] for name in names
    }


def _migrations(database: sqlite3.Connection) -> list[list[str]]:
    rows = database.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
    return [[app, name] for app, name in rows]


def _attachment_names(database: sqlite3.Connection) -> list[str]:
    rows = database.execute("SELECT file FROM tickets_attachment WHERE file <> '' ORDER BY file")
    return [row[0] for row in rows]


def backup_take(*, now: datetime | None = None) -> Backup:
    """Take a consistent backup of the database and the attachments it names."""
    live = _database_path()
    now = now or datetime.now(UTC)
    root = backups_dir()
    root.mkdir(parents=True, exist_ok=True)
    previous = backups_list()
    target = root / now.strftime("%Y%m%dT%H%M%S.%fZ")
    partial = root / f".{target.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    try:
        copy = partial / DATABASE_FILE
        with closing(sqlite3.connect(live)) as source, closing(sqlite3.connect(copy)) as target_db:
            source.backup(target_db)
            target_db.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        manifest = _copy_media(copy, partial, previous[0].path if previous else None)
        with closing(sqlite3.connect(copy)) as database:
            manifest["tables"] = _tables(database)
            manifest["migrations"] = _migrations(database)
        manifest["database"] = {"sha256": _sha256(copy), "size": copy.stat().st_size}
        manifest["created_at"] = now.isoformat()
        manifest["format"] = FORMAT
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
        partial.rename(target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    _prune()
    written = sum(
        p.stat().st_size for p in target.rglob("*") if p.is_file() and p.stat().st_nlink == 1
    )
    return Backup(target, now, written, len(manifest["files"]))


def _copy_media(copy: Path, partial: Path, previous: Path | None) -> dict[str, Any]:
    files: dict[str, dict[str, Any]] = {}
    earlier = _manifest(previous)["files"] if previous else {}
    with closing(sqlite3.connect(copy)) as database:
        names = _attachment_names(database)
    for name in names:
        source = Path(default_storage.path(name))
        if not source.is_file():
            raise BackupError(f"The database names {name}, which is not in the media folder.")
        destination = partial / MEDIA / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        size, checksum = source.stat().st_size, _sha256(source)
        known = earlier.get(name)
        kept = previous / MEDIA / name if previous else None
        if (
            kept is not None
            and known == {"sha256": checksum, "size": size}
            and kept.is_file()
            and _sha256(kept) == checksum  # never link to a copy damaged since
        ):
            os.link(kept, destination)  # unchanged: stored once
        else:
            shutil.copy2(source, destination)
        files[name] = {"sha256": checksum, "size": size}
    return {"files": files}


def _manifest(path: Path) -> dict[str, Any]:
    try:
        return json.loads((path / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"{path}: no readable {MANIFEST} ({exc}).") from exc


def backups_list() -> list[Backup]:
    """The finished backups, newest first."""
    root = backups_dir()
    found = []
    for path in sorted(root.glob("*T*Z"), reverse=True) if root.is_dir() else []:
        try:
            manifest = _manifest(path)
        except BackupError:
            continue
        size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        found.append(
            Backup(
                path, datetime.fromisoformat(manifest["created_at"]), size, len(manifest["files"])
            )
        )
    return found


def _prune() -> None:
    for old in backups_list()[settings.PACTE_BACKUP_KEEP :]:
        shutil.rmtree(old.path)


def backup_check(path: Path) -> dict[str, Any]:
    """Refuse a damaged or mismatched backup, with the reason; its manifest when sound."""
    manifest = _manifest(path)
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path}: a backup format this version does not read.")
    database = path / DATABASE_FILE
    expected = manifest["database"]
    if not database.is_file() or _sha256(database) != expected["sha256"]:
        raise BackupError(f"{path}: the database copy is missing or damaged (checksum differs).")
    for name, facts in manifest["files"].items():
        stored = path / MEDIA / name
        if not stored.is_file() or stored.stat().st_size != facts["size"]:
            raise BackupError(f"{path}: attachment {name} is missing or of another size.")
        if _sha256(stored) != facts["sha256"]:
            raise BackupError(f"{path}: attachment {name} is damaged (checksum differs).")
    known = {(app, name) for app, name in MigrationLoader(None).disk_migrations}
    unknown = [f"{app}.{name}" for app, name in manifest["migrations"] if (app, name) not in known]
    if unknown:
        raise BackupError(
            f"{path}: made by a newer version of Pacte (migrations {', '.join(unknown[:5])}); "
            "restore it with that version."
        )
    return manifest


def backup_restore(path: Path) -> dict[str, Any]:
    """Bring the database and the attachments back to the backup's moment; run migrate after
    (a backup of an older version gets the newer migrations)."""
    manifest = backup_check(path)
    live = _database_path()
    connection.close()
    with (
        closing(sqlite3.connect(path / DATABASE_FILE)) as source,
        closing(sqlite3.connect(live)) as destination,
    ):
        source.backup(destination)
    for name in manifest["files"]:
        target = Path(default_storage.path(name))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path / MEDIA / name, target)
    return manifest
