"""The embedded database's backups, the drill on the SQLite path: an installation of its own
(its own SQLite file, media and backup folders, driven through manage.py in a subprocess, as an
operator would, whatever database the test run itself uses). A backup restores the same rows
(checksummed table by table), the same deadlines and the same bytes; a damaged or mismatched
backup is refused and nothing changes; a restore waits for confirmation; retention; files
stored once across backups."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.services import ROOT

SEED = """
from django.core.files.uploadedfile import SimpleUploadedFile
from tests.factories import make_world, open_ticket
from tickets import services
world = make_world()
ticket = open_ticket(world.alice, severity="blocking")
services.ticket_reply(ticket=ticket, author=world.alice.user, body="The log.",
    files=[SimpleUploadedFile("log.txt", b"line 1\\nline 2\\n", "text/plain")])
"""
LATER = """
from tests.factories import open_ticket
from tickets import services
from tickets.models import Ticket, User
ticket = Ticket.objects.order_by("pk").first()
open_ticket(ticket.requester, subject="After the backup")
services.ticket_change_status(
    ticket=ticket, actor=User.objects.get(username="agent_eu"), status="resolved")
"""


@dataclass
class Installation:
    root: Path

    @property
    def database(self) -> Path:
        return self.root / "pacte.sqlite3"

    @property
    def media(self) -> Path:
        return self.root / "media"

    @property
    def backups(self) -> Path:
        return self.root / "backups"

    def manage(
        self, *args: str, stdin: str = "", check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": f"sqlite:///{self.database}",
            "PACTE_MEDIA_ROOT": str(self.media),
            "PACTE_BACKUP_DIR": str(self.backups),
            "PACTE_BACKUP_KEEP": "3",
        }
        done = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *args],
            input=stdin, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300,
        )  # fmt: skip
        if check and done.returncode != 0:
            raise AssertionError(f"manage.py {args[0]}: {done.stderr[-3000:]}")
        return done

    def checksums(self) -> dict[str, str]:
        """Each table's rows, hashed in order: equal checksums, equal data (sessions aside)."""
        with closing(sqlite3.connect(self.database)) as database:
            names = [
                row[0]
                for row in database.execute(
                    "SELECT name FROM sqlite_master WHERE type='table' "
                    "AND name NOT LIKE 'sqlite_%' AND name <> 'django_session'"
                )
            ]
            result = {}
            for name in names:
                digest = hashlib.sha256()
                for row in database.execute(f'SELECT * FROM "{name}" ORDER BY 1'):
                    digest.update(repr(row).encode())
                result[name] = digest.hexdigest()
        return result

    def deadlines(self) -> list[tuple[object, ...]]:
        with closing(sqlite3.connect(self.database)) as database:
            return list(
                database.execute("SELECT id, state, due_at, warn_at FROM sla_clock ORDER BY id")
            )

    def files(self) -> dict[str, bytes]:
        return {
            str(p.relative_to(self.media)): p.read_bytes()
            for p in self.media.rglob("*")
            if p.is_file()
        }

    def backup_list(self) -> list[Path]:
        return sorted(self.backups.glob("*T*Z"), reverse=True)


@pytest.fixture
def installation(tmp_path: Path) -> Installation:
    made = Installation(tmp_path)
    made.manage("migrate", "--noinput")
    made.manage("shell", "-c", SEED)
    return made


def test_a_backup_restores_the_same_rows_deadlines_and_bytes(installation: Installation) -> None:
    before, deadlines, files = (
        installation.checksums(),
        installation.deadlines(),
        installation.files(),
    )
    assert len(files) == 1 and deadlines
    assert "1 attachments" in installation.manage("backup").stdout
    (backup,) = installation.backup_list()

    installation.manage("shell", "-c", LATER)  # life goes on
    (stored,) = [p for p in installation.media.rglob("*") if p.is_file()]
    stored.unlink()  # and a file is lost
    assert installation.checksums() != before

    done = installation.manage("restore", str(backup), "--yes")
    assert "Restored" in done.stdout
    assert installation.checksums() == before
    assert installation.deadlines() == deadlines
    assert installation.files() == files
    installation.manage("migrate", "--check")


def test_a_damaged_or_mismatched_backup_is_refused_and_nothing_changes(
    installation: Installation,
) -> None:
    installation.manage("backup")
    (first,) = installation.backup_list()
    installation.manage("backup")
    newest = installation.backup_list()[0]
    before = installation.checksums()

    manifest = json.loads((newest / "manifest.json").read_text())
    manifest["migrations"].append(["tickets", "9999_from_the_future"])
    (newest / "manifest.json").write_text(json.dumps(manifest))
    refused = installation.manage("restore", str(newest), "--yes", check=False)
    assert refused.returncode == 1 and "newer version" in refused.stderr
    assert "Nothing was changed" in refused.stderr

    with closing(sqlite3.connect(newest / "db.sqlite3")) as database:
        database.execute("DELETE FROM tickets_ticket")
        database.commit()
    refused = installation.manage("restore", str(newest), "--yes", check=False)
    assert refused.returncode == 1 and "database copy is missing or damaged" in refused.stderr

    # A stored file rots in place (the backups share it, linked: each is refused).
    (kept,) = [p for p in (first / "media").rglob("*") if p.is_file()]
    kept.write_bytes(kept.read_bytes()[:-1] + b"X")
    refused = installation.manage("restore", str(first), "--yes", check=False)
    assert refused.returncode == 1 and "is damaged (checksum differs)" in refused.stderr
    missing = installation.manage(
        "restore", str(installation.root / "nowhere"), "--yes", check=False
    )
    assert missing.returncode == 1 and "No backup folder at" in missing.stderr
    assert first.name in missing.stderr  # the backups there are named
    (installation.root / "empty").mkdir()
    empty = installation.manage("restore", str(installation.root / "empty"), "--yes", check=False)
    assert empty.returncode == 1 and "no readable manifest.json" in empty.stderr
    assert installation.checksums() == before


def test_a_restore_waits_for_confirmation(installation: Installation) -> None:
    installation.manage("backup")
    (backup,) = installation.backup_list()
    installation.manage("shell", "-c", LATER)
    after = installation.checksums()
    refused = installation.manage("restore", str(backup), stdin="no\n", check=False)
    assert refused.returncode == 1 and "Not confirmed" in refused.stderr
    assert installation.checksums() == after
    done = installation.manage("restore", str(backup), stdin="restore\n")
    assert "Restored" in done.stdout and installation.checksums() != after


def test_retention_and_files_stored_once(installation: Installation) -> None:
    for _ in range(5):
        installation.manage("backup")
    kept = installation.backup_list()
    assert len(kept) == 3  # PACTE_BACKUP_KEEP
    one = next(p for p in (kept[-1] / "media").rglob("*") if p.is_file())
    two = kept[0] / one.relative_to(kept[-1])
    assert one.stat().st_ino == two.stat().st_ino  # the same file, linked


def test_postgresql_is_not_this_commands_job(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "backup"],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test",
             "DATABASE_URL": "postgres://nobody:x@127.0.0.1:1/none"},
    )  # fmt: skip
    assert done.returncode == 1 and "pgBackRest" in done.stderr
