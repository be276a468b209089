"""Attachments shown in the page (issue 23): an image as a picture, a PDF in a frame, each
only once its bytes said it is what its name claims; everything else downloaded, as before."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests.factories import PDF, PNG, World, client_for, open_ticket
from tickets import services
from tickets.models import Attachment
from tickets.services.attachments import MailFile, stored_type

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _a_wednesday() -> Iterator[None]:
    """A working Wednesday morning in June, whatever day the tests run."""
    with time_machine.travel(datetime(2026, 6, 17, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))):
        yield


def test_images_and_pdfs_are_shown_in_the_timeline(world: World) -> None:
    ticket = open_ticket(world.alice)
    services.ticket_reply(
        ticket=ticket,
        author=world.alice.user,
        body="Screens attached",
        files=[
            SimpleUploadedFile("screen.png", PNG, "image/png"),
            SimpleUploadedFile("report.pdf", PDF, "application/pdf"),
            SimpleUploadedFile("trace.log", b"line 1\n", "text/plain"),
        ],
    )
    files = {a.filename: a for a in ticket.attachments.all()}
    alice = client_for(world.alice.user)
    page = alice.get(f"/tickets/{ticket.reference}/").content.decode()
    png, pdf, log = files["screen.png"], files["report.pdf"], files["trace.log"]
    assert f'<img src="/attachments/{png.key}/preview/" alt="screen.png"' in page
    assert f'<iframe src="/attachments/{pdf.key}/preview/" title="report.pdf"' in page
    assert f"/attachments/{log.key}/preview/" not in page

    image = alice.get(f"/attachments/{png.key}/preview/")
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert not image["Content-Disposition"].startswith("attachment")
    assert image["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert b"".join(image.streaming_content) == PNG
    framed = alice.get(f"/attachments/{pdf.key}/preview/")
    assert framed["Content-Type"] == "application/pdf"
    assert framed["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'self'"
    assert (
        framed["X-Frame-Options"] == "SAMEORIGIN" and framed["X-Content-Type-Options"] == "nosniff"
    )
    assert alice.get(f"/attachments/{log.key}/preview/").status_code == 404  # downloaded only
    assert alice.get(f"/attachments/{log.key}/").status_code == 200
    # Another organization's customer sees nothing of it.
    assert client_for(world.bob.user).get(f"/attachments/{png.key}/preview/").status_code == 404


def test_a_mail_file_whose_bytes_disagree_is_kept_but_never_shown(world: World) -> None:
    """A mail is never refused for its files: one that claims to be a picture and is not is
    stored as plain bytes (downloaded, not shown); the true picture is shown."""
    liar = MailFile(b"<html><script>", name="photo.png", content_type="image/png", inline=False)
    truthful = MailFile(PNG, name="image001.png", content_type="image/png", inline=False)
    nameless = MailFile(PNG, name="", content_type="image/png", inline=True)
    assert stored_type(liar, "photo.png", "image/png") == "application/octet-stream"
    assert stored_type(truthful, "image001.png", "image/png") == "image/png"
    assert stored_type(nameless, "", "image/png") == "image/png"
    assert stored_type(ContentFile(PNG), "shot.png", "application/pdf") == (
        "application/octet-stream"
    )
    assert stored_type(ContentFile(b"a,b\n"), "data.csv", "") == "text/csv"
    ticket = open_ticket(world.alice)
    services.ticket_receive_mail(
        ticket=ticket,
        contact=world.alice,
        mail=services.MailContent(files=[liar, truthful], sender="alice@example.com"),
        body="Two pictures",
        received_at=timezone.now(),
    )
    kinds = dict(Attachment.objects.values_list("filename", "content_type"))
    assert kinds == {"photo.png": "application/octet-stream", "image001.png": "image/png"}


def test_a_file_stored_before_the_check_is_not_shown_if_its_bytes_disagree(world: World) -> None:
    ticket = open_ticket(world.alice)
    services.ticket_reply(
        ticket=ticket,
        author=world.alice.user,
        body="A text named .png, from before",
        files=[SimpleUploadedFile("notes.txt", b"<html><script>", "text/plain")],
    )
    Attachment.objects.filter(ticket=ticket).update(content_type="image/png", filename="x.png")
    key = Attachment.objects.get(ticket=ticket).key
    alice = client_for(world.alice.user)
    assert alice.get(f"/attachments/{key}/preview/").status_code == 404
    assert alice.get(f"/attachments/{key}/")["Content-Disposition"].startswith("attachment")
