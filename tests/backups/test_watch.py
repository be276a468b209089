"""Backups seen and watched: managers see each backup and the age of the last; they are
mailed when one fails, and once a day while the last is late."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from tests.factories import World
from tickets.backups import watch
from tickets.backups.sqlite import BackupError

pytestmark = pytest.mark.django_db
NOON = datetime(2026, 6, 17, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _sqlite_watch(settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The watch of the embedded database's backups, whatever database the suite runs on: its
    backups are folders, made here as `manage.py backup` leaves them."""
    settings.PACTE_BACKUP_DIR = tmp_path / "backups"
    monkeypatch.setattr(watch, "embedded_database", lambda: True)


def made(at: datetime, root: Path) -> None:
    folder = root / at.strftime("%Y%m%dT%H%M%S.%fZ")
    (folder / "media").mkdir(parents=True)
    (folder / "db.sqlite3").write_bytes(b"x" * 2048)
    manifest = {"created_at": at.isoformat(), "files": {}, "format": 1}
    (folder / "manifest.json").write_text(json.dumps(manifest))


def test_managers_see_the_backups_and_the_age_of_the_last(world: World, settings: Any) -> None:
    made(NOON - timedelta(hours=30), settings.PACTE_BACKUP_DIR)
    made(NOON - timedelta(hours=6), settings.PACTE_BACKUP_DIR)
    status = watch.backup_status(now=NOON)
    assert len(status.backups) == 2 and status.age == timedelta(hours=6) and not status.late
    manager = Client()
    manager.force_login(world.manager)
    page = manager.get("/desk/backups/").content.decode()
    assert "The last backup was taken" in page and page.count("full copy") == 2
    agent = Client()
    agent.force_login(world.agent_eu)
    assert agent.get("/desk/backups/").status_code == 404


def test_a_late_backup_is_mailed_once_a_day(world: World, settings: Any) -> None:
    made(NOON - timedelta(hours=27), settings.PACTE_BACKUP_DIR)
    assert watch.backup_status(now=NOON).late
    assert watch.backup_watch(now=NOON) is True
    assert watch.backup_watch(now=NOON + timedelta(hours=1)) is False  # once that day
    (message,) = mail.outbox
    assert message.subject == "Pacte backup late" and world.manager.email in message.to
    manager = Client()
    manager.force_login(world.manager)
    assert "more than a day" in manager.get("/desk/backups/").content.decode()
    made(NOON + timedelta(hours=2), settings.PACTE_BACKUP_DIR)
    assert watch.backup_watch(now=NOON + timedelta(days=1)) is False  # not late any more


def test_no_backup_at_all_is_late(world: World) -> None:
    assert watch.backup_status(now=NOON).late
    assert watch.backup_watch(now=NOON) and "No backup of Pacte" in str(mail.outbox[0].body)


def test_a_failed_backup_is_mailed(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(**kwargs: object) -> None:
        raise BackupError("The database names attachments/1/x, which is not in the media folder.")

    monkeypatch.setattr(watch, "backup_take", broken)
    assert watch.backup_run_and_report(now=NOON) is None
    (message,) = mail.outbox
    assert message.subject == "Pacte backup failed" and "attachments/1/x" in str(message.body)


def test_postgresql_backups_are_not_watched_here(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(watch, "embedded_database", lambda: False)
    status = watch.backup_status(now=NOON)
    assert not status.watched and not status.late
    assert watch.backup_watch(now=NOON) is False and not mail.outbox
