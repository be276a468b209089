"""Backups seen and watched: managers see each backup and the age of the last; they are
mailed when one fails, and once a day while the last is late."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import Client

from tests.factories import World
from tickets.apps import backups_configured_check
from tickets.backups import watch
from tickets.backups.sqlite import BackupError
from tickets.models import BackupRun, User

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
    assert "The last backup was taken" in page and page.count("<code>2026") == 2
    agent = Client()
    agent.force_login(world.agent_eu)
    assert agent.get("/desk/backups/").status_code == 404


def test_on_sqlite_the_watch_takes_a_late_backup_itself(
    world: World, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    made(NOON - timedelta(hours=27), settings.PACTE_BACKUP_DIR)
    assert watch.backup_status(now=NOON).late_reasons == ["No backup of the database for 27 hours."]
    manager = Client()
    manager.force_login(world.manager)
    page = manager.get("/desk/backups/").content.decode()
    assert "No backup of the database for " in page  # read at the real now: older still
    taken: list[datetime] = []
    monkeypatch.setattr(
        watch, "backup_take", lambda now: taken.append(now) or made(now, settings.PACTE_BACKUP_DIR)
    )  # noqa: E501
    assert watch.backup_watch(now=NOON) is False and taken == [NOON] and not mail.outbox
    assert not watch.backup_status(now=NOON).late
    assert watch.backup_watch(now=NOON + timedelta(hours=1)) is False and taken == [NOON]


def test_a_new_installation_gets_its_first_backup_within_the_hour(
    world: World, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert watch.backup_status(now=NOON).late_reasons == ["No backup has been taken yet."]
    monkeypatch.setattr(watch, "backup_take", lambda now: made(now, settings.PACTE_BACKUP_DIR))
    watch.backup_watch(now=NOON)
    assert len(watch.backup_status(now=NOON).backups) == 1 and not mail.outbox


def test_a_failed_backup_is_mailed_once_a_day_in_each_managers_language(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**kwargs: object) -> None:
        raise BackupError("The disk is full.")

    world.manager.language, world.manager.time_zone = "fr", "Europe/Paris"
    world.manager.save()
    english = User.objects.create(
        username="max", email="max@pacte.example", role=User.Role.MANAGER, language="en",
        time_zone="America/New_York",
    )  # fmt: skip
    monkeypatch.setattr(watch, "backup_take", broken)
    assert watch.backup_run_and_report(now=NOON) is None
    assert watch.backup_run_and_report(now=NOON + timedelta(hours=1)) is None  # not mailed again
    french, other = sorted(mail.outbox, key=lambda m: m.to[0] != world.manager.email)
    assert french.subject == "Échec de la sauvegarde de Pacte"
    assert "The disk is full." in french.body
    assert "La sauvegarde de Pacte a échoué le mer. 17 juin 2026 à 14:00 (CEST)" in french.body
    assert other.to == [english.email] and other.subject == "Pacte backup failed"
    assert "The backup of Pacte failed on Wed 17 Jun 2026, 08:00 (EDT)" in other.body
    assert "/desk/backups/" in other.body


def test_postgresql_without_backups_is_said_and_mailed_daily(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(watch, "embedded_database", lambda: False)
    status = watch.backup_status(now=NOON)
    assert not status.configured
    assert status.late_reasons == ["No backup is configured for this database."]
    assert watch.backup_watch(now=NOON) is True
    assert watch.backup_watch(now=NOON + timedelta(hours=1)) is False  # once a day
    (message,) = mail.outbox
    assert "No backup is configured" in message.body and "Ask whoever runs" in message.body
    manager = Client()
    manager.force_login(world.manager)
    assert "No backup is configured" in manager.get("/desk/backups/").content.decode()


def run(kind: str, hours_ago: float, *, succeeded: bool = True, error: str = "") -> BackupRun:
    start = NOON - timedelta(hours=hours_ago)
    database = kind in (BackupRun.Kind.FULL, BackupRun.Kind.INCREMENTAL)
    return BackupRun.objects.create(
        kind=kind, started_at=start, finished_at=start + timedelta(seconds=42),
        succeeded=succeeded, error=error,
        database_label="20261210-023000F" if database and succeeded else "",
        database_added=3 * 2**20 if database else None,
        database_size=120 * 2**20 if database else None,
        files_snapshot="3f17932f" if succeeded else "",
        files_added=2**20, files_size=40 * 2**20,
    )  # fmt: skip


@pytest.fixture
def postgresql(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(watch, "embedded_database", lambda: False)
    settings.PACTE_PGBACKREST_STANZA = "pacte"
    settings.PACTE_RESTIC_REPOSITORY = "/var/backups/pacte-files"


@pytest.mark.usefixtures("postgresql")
def test_managers_see_postgresql_backups_kind_age_and_size(world: World) -> None:
    run(BackupRun.Kind.FULL, 24 * 6)
    run(BackupRun.Kind.INCREMENTAL, 6)
    run(BackupRun.Kind.INCREMENTAL, 5, succeeded=False, error="pgbackrest: unable to find primary")
    run(BackupRun.Kind.FILES, 1)
    status = watch.backup_status(now=NOON)
    assert status.configured and not status.late
    assert status.age == timedelta(hours=6) - timedelta(seconds=42)
    assert status.full_age == timedelta(days=6) - timedelta(seconds=42)
    manager = Client()
    manager.force_login(world.manager)
    with time_machine.travel(NOON, tick=False):
        page = manager.get("/desk/backups/").content.decode()
    assert page.count("Incremental backup") == 3
    assert "The last run of “Incremental backup” failed" in page and "Full backup" in page
    assert "Attachments only" in page and "unable to find primary" in page
    assert "120.0\xa0MB" in page and "done in 42 s" in page


@pytest.mark.usefixtures("postgresql")
@pytest.mark.parametrize(
    ("full", "incremental", "said"),
    [
        (24 * 9, 6, "No full backup for more than 8 days: the last one was taken on "),
        (24 * 3, 27.1, "No backup of the database for 27 hours."),
        (None, None, "No backup has been taken yet."),
    ],
)
def test_late_postgresql_backups_are_mailed(
    world: World, full: float | None, incremental: float | None, said: str
) -> None:
    if full is not None:
        run(BackupRun.Kind.FULL, full)
    if incremental is not None:
        run(BackupRun.Kind.INCREMENTAL, incremental)
    run(BackupRun.Kind.FILES, 0.5)  # attachments alone do not make a backup
    (reason,) = watch.backup_status(now=NOON).late_reasons
    assert reason.startswith(said)
    assert watch.backup_watch(now=NOON) is True
    (message,) = mail.outbox
    assert message.subject == "Pacte backup late" and said in str(message.body)


@pytest.mark.usefixtures("postgresql")
def test_a_failed_postgresql_backup_is_recorded_and_mailed(world: World, settings: Any) -> None:
    settings.PACTE_PGBACKREST = "false"  # a real command that fails, as pgBackRest would
    assert watch.backup_run_and_report(now=NOON, kind=BackupRun.Kind.INCREMENTAL) is None
    (failed,) = BackupRun.objects.all()
    assert not failed.succeeded and "false --stanza=pacte backup" in failed.error
    (message,) = mail.outbox
    assert message.subject == "Pacte backup failed"
    assert "The incremental backup of Pacte failed on" in str(message.body)
    assert "systemctl start pacte-backup-incremental.service" in str(message.body)


@pytest.mark.parametrize(
    ("engine", "stanza", "tool", "said"),
    [
        ("django.db.backends.sqlite3", "", "pgbackrest", []),
        ("django.db.backends.postgresql", "", "pgbackrest", ["pacte.W001"]),
        ("django.db.backends.postgresql", "pacte", "no-such-pgbackrest", ["pacte.W002"]),
    ],
)
def test_production_warns_when_no_backup_is_configured(
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    engine: str,
    stanza: str,
    tool: str,
    said: list[str],
) -> None:
    settings.DEBUG = False
    monkeypatch.setitem(settings.DATABASES["default"], "ENGINE", engine)
    settings.PACTE_PGBACKREST_STANZA = stanza
    settings.PACTE_RESTIC_REPOSITORY = "/var/backups/pacte-files"
    settings.PACTE_PGBACKREST, settings.PACTE_RESTIC = tool, "sh"
    assert [w.id for w in backups_configured_check()] == said
