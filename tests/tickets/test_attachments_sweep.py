"""Stored files that no attachment names any more (a deleted ticket's, a failed write's) are
deleted by the daily sweep, once a day old; files in use and young files are kept."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests.factories import World
from tickets import services
from tickets.models import Attachment, Channel, Ticket
from tickets.tasks import attachments_sweep_task

pytestmark = pytest.mark.django_db


def ticket_with_file(world: World, name: str) -> Ticket:
    return services.ticket_create(
        requester=world.alice,
        subject="The screen is blank",
        description="Photo attached.",
        severity="minor",
        channel=Channel.WEB,
        actor=world.alice.user,
        files=[SimpleUploadedFile(name, b"\x89PNG\r\n\x1a\n not really", content_type="image/png")],
    )


def age(path: str, days: int) -> None:
    when = (timezone.now() - timedelta(days=days)).timestamp()
    os.utime(default_storage.path(path), (when, when))


def test_the_sweep_deletes_only_old_files_no_attachment_names(world: World) -> None:
    kept = ticket_with_file(world, "kept.png")
    in_use = Attachment.objects.get(ticket=kept).file.name
    gone = ticket_with_file(world, "gone.png")
    of_deleted = Attachment.objects.get(ticket=gone).file.name
    gone.delete()  # the rows go, the stored file stays behind
    stray = default_storage.save("attachments/999999/0123abcd", ContentFile(b"left by a crash"))
    young = default_storage.save("attachments/999999/4567cdef", ContentFile(b"being written"))
    for path in (in_use, of_deleted, stray):
        age(path, days=3)

    assert attachments_sweep_task() == 2
    assert default_storage.exists(in_use) and default_storage.exists(young)
    assert not default_storage.exists(of_deleted) and not default_storage.exists(stray)
    assert Attachment.objects.get(ticket=kept).file.read() == b"\x89PNG\r\n\x1a\n not really"
    assert services.attachments_sweep(now=timezone.now()) == 0  # nothing left to do


def test_with_no_attachment_ever_stored_the_sweep_deletes_nothing_else(world: World) -> None:
    """No attachments/ folder yet, and old files of other kinds in the same storage: they are
    not the sweep's to delete, however old."""
    others = [
        default_storage.save("exports/2026-05.csv", ContentFile(b"month,tickets")),
        default_storage.save("left-at-the-root.bin", ContentFile(b"not an attachment")),
    ]
    for path in others:
        age(path, days=30)
    assert not default_storage.exists("attachments")

    assert services.attachments_sweep(now=timezone.now()) == 0
    assert all(default_storage.exists(path) for path in others)

    # Once an attachment is stored, an old stray beside it goes; the other files still stay.
    ticket_with_file(world, "first.png")
    stray = default_storage.save("attachments/999999/89abcdef", ContentFile(b"left by a crash"))
    age(stray, days=30)
    assert services.attachments_sweep(now=timezone.now()) == 1
    assert not default_storage.exists(stray)
    assert all(default_storage.exists(path) for path in others)
