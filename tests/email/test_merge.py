"""Merge (issue 16, point 4): the customer hears of a merge, in their language, with the ticket
that goes on; the agent's note stays internal unless shared. Mail goes through a real SMTP
server (tests.mailservers.SmtpSink) and is read back from the bytes it received."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.email.conftest import MailWorld
from tests.factories import ContactFactory, open_ticket
from tests.mailservers import SmtpSink
from tickets import selectors, services
from tickets.models import Contact, OutboundMail, Status, Ticket, TicketEvent, User
from tickets.tasks import mail_sweep_task

pytestmark = pytest.mark.django_db(transaction=True)

MONDAY = datetime(2026, 11, 16, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
NOTE = "Même panne que PAC-x, signalée deux fois au téléphone."


@pytest.fixture(autouse=True)
def monday() -> Iterator[None]:
    with time_machine.travel(MONDAY):
        yield


def sent(smtp: SmtpSink, to: str) -> list[EmailMessage]:
    """What the outbox sweep delivered to `to` through the SMTP server, oldest first."""
    mail_sweep_task()
    return [m.message for m in smtp.messages if to in m.rcpt_tos]


def text_of(message: EmailMessage) -> str:
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    return str(text).replace("\r\n", "\n")


def html_of(message: EmailMessage) -> str:
    return message.get_body(("html",)).get_content()  # type: ignore[union-attr]


def two_tickets(contact: Contact) -> tuple[Ticket, Ticket]:
    keep = open_ticket(contact, subject="Export comptable en erreur")
    dup = open_ticket(contact, subject="Export KO")
    return keep, dup


def page(user: User, ticket: Ticket) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(reverse("tickets:detail", args=[ticket.reference]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_customer_hears_of_a_merge_in_french_and_the_note_stays_internal(
    mail_world: MailWorld, smtp: SmtpSink
) -> None:
    alice, agent = mail_world.alice, mail_world.world.agent_eu  # Alice reads French
    keep, dup = two_tickets(alice)
    already = len(sent(smtp, "alice@acme.test"))  # the two opening mails
    client = Client()
    client.force_login(agent)
    response = client.post(
        reverse("tickets:merge", args=[dup.reference]),
        {"target": keep.reference, "note": NOTE},  # not shared
    )
    assert response.status_code == 302
    mails = sent(smtp, "alice@acme.test")[already:]
    assert len(mails) == 1  # one mail: the merge, not "went from New to Closed"
    (merged,) = mails
    print(merged["Subject"], text_of(merged), sep="\n")  # noqa: T201  # read it: pytest -s
    assert OutboundMail.objects.get(kind=OutboundMail.Kind.MERGED).language == "fr"
    assert merged["Subject"] == f"Re: [{keep.reference}] {keep.subject}"
    text, html = text_of(merged), html_of(merged)
    assert f"Votre ticket {dup.reference} (« Export KO ») porte sur la même demande" in text
    assert f"fusionné dans {keep.reference}" in text
    link = f"{settings.PACTE_BASE_URL}/tickets/{keep.reference}/"
    assert link == f"{settings.PACTE_BASE_URL}{reverse('tickets:detail', args=[keep.reference])}"
    assert link in text and f'href="{link}"' in html
    assert "passé de" not in text
    assert "Même panne" not in text and "Même panne" not in html
    # Threaded with the ticket that stays, whose thread now holds the duplicate's ids too:
    # an answer lands on the ticket that goes on.
    assert merged["In-Reply-To"]
    assert merged["Message-ID"].endswith(f"@{settings.PACTE_MAIL_DOMAIN}>")
    assert keep.mail_ids.filter(key=merged["Message-ID"]).exists()
    # The customer's history says "merged", never the agent's note.
    for ticket in (dup, keep):
        customer_page = page(alice.user, ticket)  # type: ignore[arg-type]
        assert "Même panne" not in customer_page
    assert "merged into another ticket" in page(alice.user, dup)  # type: ignore[arg-type]
    # Staff see the note, marked internal.
    agent_page = page(agent, dup)
    assert "Même panne" in agent_page and "Internal note" in agent_page


def test_a_shared_note_reaches_an_english_customer_and_their_history(
    mail_world: MailWorld, smtp: SmtpSink
) -> None:
    alice, agent = mail_world.alice, mail_world.world.agent_eu
    alice.language = "en"
    alice.save()
    keep, dup = two_tickets(alice)
    already = len(sent(smtp, "alice@acme.test"))
    services.ticket_merge(
        source=dup, target=keep, actor=agent, note="Same outage as the other one.", share_note=True
    )
    (merged,) = sent(smtp, "alice@acme.test")[already:]
    print(merged["Subject"], text_of(merged), sep="\n")  # noqa: T201  # read it: pytest -s
    text = text_of(merged)
    assert f'Your ticket {dup.reference} ("Export KO")' not in text  # typographic quotes
    assert f"Your ticket {dup.reference} (“Export KO”) is about the same request" in text
    assert f"so we merged it into {keep.reference}" in text
    assert "A note from our team:\nSame outage as the other one." in text
    assert f"/tickets/{keep.reference}/" in text
    for ticket in (dup, keep):
        assert "Same outage as the other one." in page(alice.user, ticket)  # type: ignore[arg-type]


def test_a_contact_who_cannot_sign_in_gets_no_link_but_a_way_to_answer(
    mail_world: MailWorld, smtp: SmtpSink
) -> None:
    nora = ContactFactory(
        organization=mail_world.acme, user=None, email="nora@acme.test", language="fr"
    )
    keep, dup = two_tickets(nora)
    already = len(sent(smtp, "nora@acme.test"))
    services.ticket_merge(source=dup, target=keep, actor=mail_world.world.agent_eu)
    (merged,) = sent(smtp, "nora@acme.test")[already:]
    text = text_of(merged)
    assert "/tickets/" not in text and "href" not in html_of(merged)
    assert f"Pour compléter {keep.reference}, répondez à ce message." in text


def test_sharing_an_empty_note_is_refused_and_nothing_changes(mail_world: MailWorld) -> None:
    keep, dup = two_tickets(mail_world.alice)
    client = Client()
    client.force_login(mail_world.world.agent_eu)
    agent_page = client.get(reverse("tickets:detail", args=[dup.reference])).content.decode()
    assert 'name="share_note"' in agent_page
    response = client.post(
        reverse("tickets:merge", args=[dup.reference]),
        {"target": keep.reference, "note": "  ", "share_note": "on"},
    )
    assert response.status_code == 400
    assert "Write the note to share" in response.content.decode()
    dup.refresh_from_db()
    assert dup.merged_into is None and dup.status == Status.NEW
    assert not OutboundMail.objects.filter(kind=OutboundMail.Kind.MERGED).exists()


@pytest.mark.parametrize("shared", [False, True])
def test_who_reads_the_merge_note_is_decided_by_the_selector(
    mail_world: MailWorld, shared: bool
) -> None:
    alice, agent = mail_world.alice, mail_world.world.agent_eu
    keep, dup = two_tickets(alice)
    services.ticket_merge(source=dup, target=keep, actor=agent, note=NOTE, share_note=shared)
    assert alice.user is not None

    def merge_notes(user: User, ticket: Ticket) -> list[str]:
        return [
            entry.event.note
            for entry in selectors.ticket_timeline(user, ticket)
            if entry.event is not None and entry.event.kind == TicketEvent.Kind.MERGED
        ]

    for ticket in (keep, dup):
        assert merge_notes(agent, ticket) == [NOTE]
        assert merge_notes(alice.user, ticket) == [NOTE if shared else ""]
    # Blanked for the reader only, never in the history itself.
    assert set(TicketEvent.objects.filter(kind="merged").values_list("note", flat=True)) == {NOTE}
