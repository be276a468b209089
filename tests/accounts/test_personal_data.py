"""Personal data on request: a manager downloads everything Pacte holds about a contact (JSON
and their files, as a zip), or erases them: pseudonymised in tickets, messages, mail and
history, files deleted, SLA facts kept. Both recorded in the audit log."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from sla.models import Clock
from tests.factories import PASSWORD, World, open_ticket
from tickets import services
from tickets.models import Attachment, AuditEvent, Contact, Message, OutboundMail, Ticket

pytestmark = pytest.mark.django_db


def manager(world: World) -> Client:
    client = Client()
    client.force_login(world.manager)
    return client


def alices_ticket(world: World) -> Ticket:
    alice = world.alice
    ticket = open_ticket(alice, subject=f"Export broken for {alice.name}")
    services.ticket_reply(
        ticket=ticket,
        author=alice.user,
        body=f"Still broken. {alice.name}, {alice.email}",
        files=[SimpleUploadedFile("screen.png", b"\x89PNG\r\n\x1a\nfake", "image/png")],
    )
    services.ticket_reply(
        ticket=ticket, author=world.agent_eu, body=f"Hello {alice.name}, we are on it."
    )
    return ticket


def test_a_manager_downloads_what_pacte_holds_about_a_contact(world: World) -> None:
    ticket = alices_ticket(world)
    open_ticket(world.bob)  # someone else's: not in it
    response = manager(world).get(f"/desk/personal-data/{world.alice.pk}/export.zip")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    data = json.loads(archive.read("data.json"))
    assert data["contact"]["email"] == world.alice.email
    assert data["account"]["username"] == "alice" and "password" not in json.dumps(data)
    assert [t["reference"] for t in data["tickets"]] == [ticket.reference]
    assert any("Still broken" in m["body"] for m in data["messages"])
    (picture,) = [n for n in archive.namelist() if n.startswith("attachments/")]
    assert picture.endswith("screen.png") and archive.read(picture).startswith(b"\x89PNG")
    event = AuditEvent.objects.get(kind="personal_export")
    assert event.actor == world.manager and event.target == f"contact #{world.alice.pk}"


def test_erasing_a_contact_keeps_the_sla_facts(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    ticket = alices_ticket(world)
    name, email = world.alice.name, world.alice.email
    clocks_before = list(Clock.objects.filter(ticket=ticket).values_list("state", "due_at"))
    file_name = Attachment.objects.get().file.name
    client = manager(world)
    refused = client.post(f"/desk/personal-data/{world.alice.pk}/erase/", {"confirm": "nope"})
    assert refused.status_code == 302 and Contact.objects.get(pk=world.alice.pk).email == email
    with django_capture_on_commit_callbacks(execute=True):  # the files go after commit
        client.post(f"/desk/personal-data/{world.alice.pk}/erase/", {"confirm": email})
    alice = Contact.objects.get(pk=world.alice.pk)
    assert alice.name == f"[erased] #{alice.pk}" and alice.email.endswith("@erased.invalid")
    ticket.refresh_from_db()
    assert name not in ticket.subject and ticket.severity == "major"
    bodies = list(Message.objects.filter(ticket=ticket).values_list("body", flat=True))
    assert all(name not in b and email not in b for b in bodies)
    assert "[erased]" in bodies and any("we are on it" in b for b in bodies)
    assert not Attachment.objects.exists()
    assert not Attachment.file.field.storage.exists(file_name)
    assert all(email not in m.to_address and name not in m.text for m in OutboundMail.objects.all())
    assert list(Clock.objects.filter(ticket=ticket).values_list("state", "due_at")) == (
        clocks_before
    )
    user = alice.user
    assert user is not None and not user.is_active and user.username == f"erased-{user.pk}"
    signing_in = Client()
    signing_in.post("/accounts/login/", {"login": "alice", "password": PASSWORD})
    assert "_auth_user_id" not in signing_in.session
    assert AuditEvent.objects.filter(kind="personal_erased", actor=world.manager).exists()
    # Erasing again is refused; the report still counts the ticket.
    again = client.post(f"/desk/personal-data/{alice.pk}/erase/", {"confirm": alice.email})
    assert again.status_code == 302
    assert AuditEvent.objects.filter(kind="personal_erased").count() == 1
    assert Ticket.objects.filter(pk=ticket.pk).exists()


def test_only_managers_handle_personal_data(world: World) -> None:
    for who in (world.agent_eu, world.alice.user):
        client = Client()
        client.force_login(who)
        assert client.get("/desk/personal-data/").status_code == 404
        assert client.get(f"/desk/personal-data/{world.alice.pk}/export.zip").status_code == 404
        erase = client.post(
            f"/desk/personal-data/{world.alice.pk}/erase/", {"confirm": world.alice.email}
        )
        assert erase.status_code == 404
    assert Contact.objects.get(pk=world.alice.pk).name == world.alice.name
    page = manager(world).get(f"/desk/personal-data/?q={world.alice.email[:9]}").content.decode()
    assert world.alice.email in page
