"""Customer web intake: file a ticket, see its promised times, reply; bad input changes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from tests.factories import PNG, World, open_ticket
from tickets import services
from tickets.models import Attachment, Message, Ticket, TicketEvent

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def alice(world: World) -> Client:
    client = Client()
    client.force_login(world.alice.user)  # type: ignore[arg-type]
    return client


def test_form_shows_each_severity_with_its_sla_definition(alice: Client) -> None:
    page = alice.get(reverse("tickets:create")).content.decode()
    assert "Blocking" in page and "Major" in page and "Minor" in page
    assert "important features are unavailable" in page
    assert "ergonomic, graphic or editorial comfort" in page


def test_customer_files_a_ticket_and_sees_it(world: World, alice: Client) -> None:
    """Filed on Wednesday 10 June 2026 at 10:00 in Berlin, blocking, on the Europe desk (Mon-Thu
    9:00-17:00): acknowledgement within 5 business hours, by 15:00 the same day; correction
    within 1 business day, by Thursday 10:00."""
    world.alice.user.time_zone = "Europe/Berlin"  # type: ignore[union-attr]
    world.alice.user.save()  # type: ignore[union-attr]
    filed_at = datetime(2026, 6, 10, 10, 0, tzinfo=BERLIN)
    with time_machine.travel(filed_at, tick=False):
        response = alice.post(
            reverse("tickets:create"),
            {
                "subject": "Checkout fails",
                "severity": "blocking",
                "description": "Error 500 on payment.",
                "attachments": [SimpleUploadedFile("shot.png", PNG, "image/png")],
            },
        )
    ticket = Ticket.objects.get()
    assert ticket.received_at == filed_at
    promises = dict(ticket.clocks.values_list("metric", "due_at"))
    assert promises == {
        "acknowledgement": datetime(2026, 6, 10, 15, 0, tzinfo=BERLIN),
        "correction": datetime(2026, 6, 11, 10, 0, tzinfo=BERLIN),
    }
    assert response.status_code == 302
    assert response["Location"] == reverse("tickets:detail", args=[ticket.reference])
    assert ticket.reference == f"PAC-{ticket.pk:06d}"
    assert (ticket.requester, ticket.organization, ticket.desk) == (
        world.alice,
        world.acme,
        world.europe,
    )
    assert ticket.channel == "web" and ticket.status == "new"
    assert ticket.messages.get().body == "Error 500 on payment."
    assert ticket.attachments.get().filename == "shot.png"
    assert ticket.clocks.count() == 2
    with time_machine.travel(filed_at + timedelta(minutes=5), tick=False):
        page = alice.get(response["Location"]).content.decode()
    assert "Checkout fails" in page and "Error 500 on payment." in page
    assert "Our promises" in page and "Acknowledgement" in page and "Correction" in page
    assert "Promised by Wed 10 Jun 2026, 15:00" in page
    assert "Promised by Thu 11 Jun 2026, 10:00" in page
    assert "Times in Europe/Berlin." in page
    assert "shot.png" in page


def test_promised_times_follow_the_desk_calendar(world: World, alice: Client) -> None:
    # Friday 2026-06-05 11:00 Berlin, blocking: acknowledgement 5 business hours -> 16:00.
    ticket = open_ticket(
        world.alice, severity="blocking", received_at=datetime(2026, 6, 5, 11, 0, tzinfo=BERLIN)
    )
    ack = ticket.clocks.get(metric="acknowledgement")
    correction = ticket.clocks.get(metric="correction")
    assert ack.due_at == datetime(2026, 6, 5, 16, 0, tzinfo=BERLIN)
    assert correction.due_at == datetime(2026, 6, 8, 11, 0, tzinfo=BERLIN)
    world.alice.user.time_zone = "Europe/Berlin"  # type: ignore[union-attr]
    world.alice.user.save()  # type: ignore[union-attr]
    page = alice.get(reverse("tickets:detail", args=[ticket.reference])).content.decode()
    assert "Fri 5 Jun 2026, 16:00" in page  # shown in the user's own time zone


def test_customer_replies(world: World, alice: Client) -> None:
    ticket = open_ticket(world.alice)
    response = alice.post(
        reverse("tickets:reply", args=[ticket.reference]), {"body": "Still broken."}
    )
    assert response.status_code == 302
    message = ticket.messages.last()
    assert message is not None and message.body == "Still broken." and not message.from_agent


def test_customer_cannot_write_internal_notes(world: World, alice: Client) -> None:
    ticket = open_ticket(world.alice)
    alice.post(
        reverse("tickets:reply", args=[ticket.reference]), {"body": "sneaky", "internal": "on"}
    )
    assert not ticket.messages.filter(is_internal=True).exists()


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"subject": "", "severity": "major", "description": "x"}, "This field is required"),
        ({"subject": "s", "severity": "catastrophic", "description": "x"}, "Select a valid choice"),
        ({"subject": "s", "severity": "major", "description": ""}, "This field is required"),
        ({"subject": "s" * 201, "severity": "major", "description": "x"}, "at most 200"),
    ],
)
def test_invalid_form_changes_nothing(alice: Client, data: dict[str, str], error: str) -> None:
    response = alice.post(reverse("tickets:create"), data)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert Ticket.objects.count() == 0 and Message.objects.count() == 0


@pytest.mark.parametrize(
    ("upload", "error"),
    [
        (
            SimpleUploadedFile("evil.exe", b"MZ", "application/octet-stream"),
            "files of this type are not accepted",
        ),
        (
            SimpleUploadedFile("page.html", b"<script>", "text/html"),
            "files of this type are not accepted",
        ),
        (SimpleUploadedFile("huge.pdf", b"x" * 2048, "application/pdf"), "is too large"),
        (SimpleUploadedFile("empty.txt", b"", "text/plain"), "empty"),
        (
            SimpleUploadedFile("shot.png", b"just some text", "image/png"),
            "shot.png is not a PNG file: its content says otherwise.",
        ),
        (
            SimpleUploadedFile("report.pdf", b"MZ\x90\x00\x03 a program", "application/pdf"),
            "report.pdf is not a PDF file",
        ),
        (SimpleUploadedFile("notes.txt", b"MZ\x90\x00\x03\x00", "text/plain"), "not a TXT file"),
    ],
)
def test_rejected_attachment_changes_nothing(
    alice: Client, settings: object, upload: SimpleUploadedFile, error: str
) -> None:
    settings.PACTE_ATTACHMENT_MAX_BYTES = 1024  # type: ignore[attr-defined]
    response = alice.post(
        reverse("tickets:create"),
        {"subject": "s", "severity": "minor", "description": "d", "attachments": [upload]},
    )
    assert response.status_code == 400
    assert error in response.content.decode()
    assert Ticket.objects.count() == 0 and Attachment.objects.count() == 0
    assert TicketEvent.objects.count() == 0


def test_organization_without_contract_cannot_file(world: World, alice: Client) -> None:
    world.acme.under_contract = False
    world.acme.save()
    response = alice.post(
        reverse("tickets:create"), {"subject": "s", "severity": "minor", "description": "d"}
    )
    assert response.status_code == 400
    assert "no support contract" in response.content.decode()
    assert Ticket.objects.count() == 0


def test_customer_closes_own_ticket_but_cannot_resolve(world: World, alice: Client) -> None:
    ticket = open_ticket(world.alice)
    alice.post(reverse("tickets:status", args=[ticket.reference]), {"status": "resolved"})
    ticket.refresh_from_db()
    assert ticket.status == "new"
    alice.post(reverse("tickets:status", args=[ticket.reference]), {"status": "closed"})
    ticket.refresh_from_db()
    assert ticket.status == "closed"
    response = alice.post(reverse("tickets:reply", args=[ticket.reference]), {"body": "again"})
    assert response.status_code == 400
    assert ticket.messages.count() == 1


def test_french_page(world: World, alice: Client) -> None:
    world.alice.user.language = "fr"  # type: ignore[union-attr]
    world.alice.user.save()  # type: ignore[union-attr]
    page = alice.get(reverse("tickets:create")).content.decode()
    assert 'lang="fr"' in page
    assert "Bloquant" in page and "Signaler un incident" in page


def test_language_switch_is_remembered_in_the_profile(world: World, alice: Client) -> None:
    world.alice.user.language = "fr"  # type: ignore[union-attr]
    world.alice.user.save()  # type: ignore[union-attr]
    alice.post(reverse("set_language"), {"language": "en", "next": "/tickets/"})
    world.alice.user.refresh_from_db()  # type: ignore[union-attr]
    assert world.alice.user.language == "en"  # type: ignore[union-attr]
    assert "Report an incident" in alice.get(reverse("tickets:create")).content.decode()
    alice.post(reverse("set_language"), {"language": "fr", "next": "/tickets/"})
    assert "Signaler un incident" in alice.get(reverse("tickets:create")).content.decode()


def test_a_merged_ticket_sends_its_customer_to_the_ticket_that_goes_on(
    world: World, alice: Client
) -> None:
    """The duplicate is closed by the merge, its clocks stopped: its page must not tell the
    customer the promises were kept, nor to open a new ticket, but where the work goes on."""
    with time_machine.travel(datetime(2026, 6, 10, 10, 0, tzinfo=BERLIN), tick=False):
        keep = open_ticket(world.alice, subject="Badges do not print")
        dup = open_ticket(world.alice, subject="Badge printing fails")
        services.ticket_merge(source=dup, target=keep, actor=world.agent_eu)
        page = alice.get(reverse("tickets:detail", args=[dup.reference])).content.decode()
    target = reverse("tickets:detail", args=[keep.reference])
    assert f'They continue on <a href="{target}">{keep.reference}</a>' in page
    assert "Kept on" not in page
    assert "Open a new ticket if the problem comes back" not in page
