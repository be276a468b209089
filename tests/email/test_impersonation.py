"""Mail that cannot impersonate (issue 16, point 1): a second From header is refused, a reply
from outside the ticket's organization changes nothing, and the To header — not the copy that
arrives first — picks the desk. Raw messages as Outlook, Gmail and Apple Mail write them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from sla.models import Clock
from tests.email.clients import apple_mail, gmail, outlook
from tests.email.conftest import MailWorld
from tickets import services
from tickets.channels.email import ingest
from tickets.channels.email.ingest import (
    FROM_OUTSIDE,
    FROM_STAFF_ADDRESS,
    MALFORMED_FROM,
    NO_FROM,
    SEVERAL_FROM,
    SEVERAL_FROM_ADDRESSES,
    mail_receive,
    mail_retry,
)
from tickets.models import InboundMail, Message, OutboundMail, Status, Ticket, User

pytestmark = pytest.mark.django_db(transaction=True)

PIPE = InboundMail.Source.PIPE
# A Monday morning in Berlin, inside the europe desk's hours.
MONDAY = datetime(2026, 11, 16, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
EVE = "Eve Dupont <eve@unknown.test>"
OPENING = "<CAB1opening5aPq=Lk7wq@mail.gmail.com>"


@pytest.fixture(autouse=True)
def monday() -> Iterator[None]:
    with time_machine.travel(MONDAY):
        yield


def receive(raw: bytes, recipient: str = "") -> InboundMail:
    return mail_receive(raw=raw, source=PIPE, recipient=recipient).inbound


def open_by_mail() -> tuple[Ticket, OutboundMail]:
    """Alice opens a ticket from Gmail; Pacte's confirmation carries a Message-ID of ours."""
    inbound = receive(gmail(subject="L'export comptable", message_id=OPENING))
    assert inbound.status == InboundMail.Status.TICKETED and inbound.ticket is not None
    return inbound.ticket, OutboundMail.objects.get(ticket=inbound.ticket)


def clocks(ticket: Ticket) -> list[tuple[str, str, object, object]]:
    return [
        (c.metric, c.state, c.runs, c.due_at)
        for c in Clock.objects.filter(ticket=ticket).order_by("metric")
    ]


def page(user: User, ticket: Ticket) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(reverse("tickets:detail", args=[ticket.reference]))
    assert response.status_code == 200
    return response.content.decode()


# --- several From headers ------------------------------------------------------------------------


def test_a_mail_with_two_from_headers_is_quarantined_not_credited_to_the_customer(
    mail_world: MailWorld,
) -> None:
    ticket, confirmation = open_by_mail()
    mails_before = OutboundMail.objects.count()
    # The DMARC bypass: the forger's own domain passes DMARC on one From, the other names Alice.
    forged = outlook(
        froms=("Alice Martin <alice@acme.test>", "Mallory <mallory@evil.test>"),
        in_reply_to=confirmation.mail_id,
        references=f"{OPENING} {confirmation.mail_id}",
        body="Merci de changer l'IBAN de facturation : FR76 0000 0000 0000.",
    )
    inbound = receive(forged)
    assert inbound.status == InboundMail.Status.QUARANTINED
    assert inbound.error == SEVERAL_FROM == "several From headers"
    assert inbound.ticket is None and inbound.message is None
    assert bytes(inbound.raw) == forged  # kept whole
    assert ticket.messages.count() == 1  # nothing under Alice's name
    assert not Message.objects.filter(body__contains="IBAN").exists()
    assert OutboundMail.objects.count() == mails_before  # nobody is answered
    # Nor does it open a ticket in her name when it threads into nothing.
    new = receive(
        outlook(
            froms=("Alice Martin <alice@acme.test>", "<mallory@evil.test>"),
            message_id="<second-forgery@evil.test>",
        )
    )
    assert new.status == InboundMail.Status.QUARANTINED and Ticket.objects.count() == 1
    # Retrying changes nothing: the message itself is at fault.
    assert mail_retry(inbound=inbound).status == InboundMail.Status.QUARANTINED
    # Staff read why, in their language.
    agent = mail_world.world.agent_eu
    agent.language = "fr"
    agent.save()
    client = Client()
    client.force_login(agent)
    detail = client.get(reverse("desk:mail-detail", args=[inbound.pk])).content.decode()
    assert "plusieurs en-têtes From" in detail


@pytest.mark.parametrize(
    ("froms", "error"),
    [
        # One From header, two mailboxes: the second one passes DMARC, the first names Alice.
        (("Alice Martin <alice@acme.test>, Mallory <mallory@evil.test>",), SEVERAL_FROM_ADDRESSES),
        # Group syntax names a list, never one person.
        (("Acme: Alice Martin <alice@acme.test>, <mallory@evil.test>;",), SEVERAL_FROM_ADDRESSES),
        (("Acme: Alice Martin <alice@acme.test>;",), SEVERAL_FROM_ADDRESSES),
        # A space before the colon: Python's parser drops this header, some clients show it.
        (("Alice Martin <alice@acme.test>", "SPACED Mallory <mallory@evil.test>"), SEVERAL_FROM),
        (("SPACED Alice Martin <alice@acme.test>", "Mallory <mallory@evil.test>"), SEVERAL_FROM),
    ],
)
def test_a_from_that_names_more_than_one_sender_is_quarantined(
    mail_world: MailWorld, froms: tuple[str, ...], error: str
) -> None:
    ticket, confirmation = open_by_mail()
    raw = outlook(
        froms=froms,
        in_reply_to=confirmation.mail_id,
        references=f"{OPENING} {confirmation.mail_id}",
        body="Merci de changer l'IBAN de facturation : FR76 0000 0000 0000.",
    ).replace(b"From: SPACED ", b"From : ")
    inbound = receive(raw)
    assert (inbound.status, inbound.error) == (InboundMail.Status.QUARANTINED, error)
    assert inbound.ticket is None and ticket.messages.count() == 1
    assert not Message.objects.filter(body__contains="IBAN").exists()


@pytest.mark.parametrize(
    "from_value",
    [
        # One From that one reader takes for Alice and another (a DMARC check) for Eve.
        "alice@acme.test <eve@unknown.test>",
        "<alice@acme.test> <eve@unknown.test>",
        "Alice Martin <alice@acme.test> <eve@unknown.test>",
        "alice@acme.test; eve@unknown.test",
        "<@unknown.test:alice@acme.test>",  # a source route: the real address hides in it
        "x:; alice@acme.test",  # an empty group, then Alice: Python's parser trips on it
        "Martin, Alice <alice@acme.test>",  # the comma unquoted: "Martin" is an address too
        # An invisible character in the address, sent as raw UTF-8: it looks like Alice's.
        "Alice Martin <alice\u200b@acme.test>",
    ],
)
def test_a_from_that_reads_two_ways_is_quarantined_and_reopens_nothing(
    mail_world: MailWorld, from_value: str
) -> None:
    ticket, _ = open_by_mail()
    agent = mail_world.world.agent_eu
    services.ticket_change_status(ticket=ticket, actor=agent, status=Status.RESOLVED)
    resolution = OutboundMail.objects.filter(ticket=ticket).last()
    assert resolution is not None
    before = clocks(ticket)
    raw = outlook(
        in_reply_to=resolution.mail_id,
        references=f"{OPENING} {resolution.mail_id}",
        body="Toujours en panne, merci de rouvrir.",
    ).replace(b"From: Alice Martin <alice@acme.test>", f"From: {from_value}".encode())
    inbound = receive(raw)
    assert (inbound.status, inbound.error) == (InboundMail.Status.QUARANTINED, MALFORMED_FROM)
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED and clocks(ticket) == before
    assert not Message.objects.filter(body__contains="rouvrir").exists()


def test_a_from_with_a_period_in_the_name_is_a_sender_like_any_other(
    mail_world: MailWorld,
) -> None:
    raw = gmail(subject="Export", message_id="<jqp@mail.gmail.com>").replace(
        b"From: Alice Martin <alice@acme.test>", b"From: Alice M. Martin <alice@acme.test>"
    )
    inbound = receive(raw)
    assert inbound.status == InboundMail.Status.TICKETED
    assert inbound.ticket is not None and inbound.ticket.requester == mail_world.alice


@pytest.mark.parametrize(
    "from_line",
    [
        "",  # no From at all: Reply-To and Sender name Alice
        "From: undisclosed-recipients:;",
        "From: Alice Martin",  # a name, no address
        # The one From has a space before its colon: Python's parser drops it, and so may
        # the DMARC check that ran before us. Not a From to trust.
        "From : Alice Martin <alice@acme.test>",
    ],
)
def test_reply_to_and_sender_never_stand_in_for_a_missing_from(
    mail_world: MailWorld, from_line: str
) -> None:
    ticket, confirmation = open_by_mail()

    def forged(message_id: str, in_reply_to: str) -> bytes:
        return outlook(
            froms=(),
            message_id=message_id,
            in_reply_to=in_reply_to,
            body="Merci de changer l'IBAN de facturation : FR76 0000 0000 0000.",
        ).replace(
            b"Subject: ",
            f"{from_line}\r\n".lstrip().encode()
            + b"Reply-To: Alice Martin <alice@acme.test>\r\n"
            + b"Sender: alice@acme.test\r\nSubject: ",
            1,
        )

    inbound = receive(forged("<PR3reply-to@evil.test>", confirmation.mail_id))
    assert (inbound.status, inbound.error) == (InboundMail.Status.QUARANTINED, NO_FROM)
    assert inbound.ticket is None and ticket.messages.count() == 1
    # Nor does it open a ticket in her name when it threads into nothing.
    new = receive(forged("<PR3reply-to-new@evil.test>", ""))
    assert (new.status, new.error) == (InboundMail.Status.QUARANTINED, NO_FROM)
    assert Ticket.objects.count() == 1


# --- replies from outside the organization -------------------------------------------------------


def test_a_stranger_holding_a_message_id_cannot_reopen_a_resolved_ticket(
    mail_world: MailWorld,
) -> None:
    ticket, _ = open_by_mail()
    agent = mail_world.world.agent_eu
    services.ticket_reply(ticket=ticket, author=agent, body="Corrigé dans la version 4.2.")
    services.ticket_change_status(ticket=ticket, actor=agent, status=Status.RESOLVED)
    resolution = OutboundMail.objects.filter(ticket=ticket).last()
    assert resolution is not None and resolution.kind == OutboundMail.Kind.RESOLVED
    before, mails_before = clocks(ticket), OutboundMail.objects.count()
    assert ("correction", Clock.State.STOPPED) in [(m, s) for m, s, *_ in before]

    stranger = apple_mail(
        sender=EVE,
        message_id="<5E3F2A1B-0000-4A8B-9C0D-EVE@unknown.test>",
        in_reply_to=resolution.mail_id,
        references=f"{OPENING} {resolution.mail_id}",
        body="Hello,\n\nThe export still fails, please reopen.",
    )
    inbound = receive(stranger)
    assert inbound.status == InboundMail.Status.REVIEW
    assert (inbound.reason, inbound.ticket) == (FROM_OUTSIDE, ticket)
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED
    assert clocks(ticket) == before  # the correction clock did not restart
    assert ticket.messages.count() == 2  # the opening and the agent's reply
    assert OutboundMail.objects.count() == mails_before  # nothing sent, to anyone

    # It waits under Mail → To review, linked to the ticket.
    client = Client()
    client.force_login(agent)
    listing = client.get(reverse("desk:mail-list") + "?tab=review").content.decode()
    assert reverse("desk:mail-detail", args=[inbound.pk]) in listing
    assert reverse("tickets:detail", args=[ticket.reference]) in listing
    assert "from outside the organization" in listing
    detail = client.get(reverse("desk:mail-detail", args=[inbound.pk])).content.decode()
    assert reverse("desk:mail-attach", args=[inbound.pk]) in detail

    # The agent keeps it on the ticket: marked, and still changing nothing.
    response = client.post(reverse("desk:mail-attach", args=[inbound.pk]))
    assert response.status_code == 302
    inbound.refresh_from_db()
    assert inbound.status == InboundMail.Status.APPENDED and inbound.message is not None
    message = inbound.message
    assert message.from_outside and message.sender == "eve@unknown.test"
    assert message.author_contact is None and message.body.startswith("Hello")
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED and clocks(ticket) == before
    assert "please reopen" in page(agent, ticket)
    assert "From outside the organization" in page(agent, ticket)
    assert "please reopen" not in page(mail_world.alice.user, ticket)  # type: ignore[arg-type]
    # Twice is refused, clearly.
    again = client.post(reverse("desk:mail-attach", args=[inbound.pk]), follow=True)
    assert "already been handled" in again.content.decode()
    assert ticket.messages.count() == 3

    # The customer herself still reopens it by answering.
    own = receive(
        gmail(
            message_id="<CAB1alice-again@mail.gmail.com>",
            in_reply_to=resolution.mail_id,
            references=f"{OPENING} {resolution.mail_id}",
        )
    )
    assert own.status == InboundMail.Status.APPENDED
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS


def test_a_reply_from_outside_on_an_open_ticket_is_kept_for_agents_and_changes_nothing(
    mail_world: MailWorld,
) -> None:
    ticket, _ = open_by_mail()
    agent = mail_world.world.agent_eu
    services.ticket_reply(ticket=ticket, author=agent, body="Pouvez-vous envoyer le journal ?")
    services.ticket_change_status(ticket=ticket, actor=agent, status=Status.WAITING_ON_CUSTOMER)
    question = OutboundMail.objects.get(ticket=ticket, kind=OutboundMail.Kind.REPLY)
    before, mails_before = clocks(ticket), OutboundMail.objects.count()
    # Bob is a customer under contract — of another organization.
    bob = receive(
        gmail(
            sender="Bob Stone <bob@globex.test>",
            message_id="<CAB1bob5aPq@mail.gmail.com>",
            in_reply_to=question.mail_id,
            references=f"{OPENING} {question.mail_id}",
            body="Voici un lien pour vous connecter : https://evil.test/login",
        )
    )
    assert bob.status == InboundMail.Status.APPENDED and bob.reason == FROM_OUTSIDE
    message = bob.message
    assert message is not None and message.ticket == ticket
    assert message.from_outside and not message.is_internal and not message.from_agent
    assert message.author_contact is None and message.sender == "bob@globex.test"
    ticket.refresh_from_db()
    assert ticket.status == Status.WAITING_ON_CUSTOMER  # not "the customer answered"
    assert clocks(ticket) == before  # the correction clock stays paused
    assert OutboundMail.objects.count() == mails_before  # nothing mailed to the customer
    agent_page = page(agent, ticket)
    assert "evil.test/login" in agent_page and "From outside the organization" in agent_page
    assert "evil.test/login" not in page(mail_world.alice.user, ticket)  # type: ignore[arg-type]
    # Alice's own answer resumes the clock as before.
    receive(
        outlook(
            message_id="<PR3alice-answer@PR3P192MB0714.EURP192.PROD.OUTLOOK.COM>",
            in_reply_to=question.mail_id,
            references=f"{OPENING} {question.mail_id}",
        )
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS


def test_a_reply_from_outside_on_a_closed_ticket_waits_for_review_rather_than_opening_one(
    mail_world: MailWorld,
) -> None:
    ticket, confirmation = open_by_mail()
    agent = mail_world.world.agent_eu
    services.ticket_change_status(ticket=ticket, actor=agent, status=Status.CLOSED)
    before = clocks(ticket)
    bob = receive(
        outlook(
            froms=("Bob Stone <bob@globex.test>",),
            in_reply_to=confirmation.mail_id,
            references=f"{OPENING} {confirmation.mail_id}",
        )
    )
    assert bob.status == InboundMail.Status.REVIEW
    assert (bob.reason, bob.ticket) == (FROM_OUTSIDE, ticket)
    assert Ticket.objects.count() == 1  # not a ticket for Bob, not a reopened one
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED and clocks(ticket) == before
    # Discarding it keeps it listed, linked, and sends nothing.
    client = Client()
    client.force_login(agent)
    assert client.post(reverse("desk:mail-discard", args=[bob.pk])).status_code == 302
    bob.refresh_from_db()
    assert bob.status == InboundMail.Status.DISCARDED and bob.ticket == ticket


def test_a_forged_staff_from_on_a_resolved_ticket_reopens_nothing_and_the_customer_never_sees_it(
    mail_world: MailWorld,
) -> None:
    ticket, _ = open_by_mail()
    agent = mail_world.world.agent_eu
    services.ticket_reply(ticket=ticket, author=agent, body="Corrigé dans la version 4.2.")
    services.ticket_change_status(ticket=ticket, actor=agent, status=Status.RESOLVED)
    resolution = OutboundMail.objects.filter(ticket=ticket).last()
    assert resolution is not None
    before, mails_before = clocks(ticket), OutboundMail.objects.count()
    # Anyone can write an agent's address in From: it proves nothing.
    forged = outlook(
        froms=(f"Agent <{agent.email.upper()}>",),
        message_id="<PR3forged-agent@evil.test>",
        in_reply_to=resolution.mail_id,
        references=f"{OPENING} {resolution.mail_id}",
        body="Bonjour,\n\nNouvel IBAN pour le remboursement : FR76 0000 0000 0000.",
    )
    inbound = receive(forged)
    assert inbound.status == InboundMail.Status.REVIEW
    assert (inbound.reason, inbound.ticket) == (FROM_STAFF_ADDRESS, ticket)
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED and clocks(ticket) == before
    assert ticket.messages.count() == 2
    assert OutboundMail.objects.count() == mails_before
    # Kept on the ticket by an agent: an internal note of no one, still changing nothing.
    client = Client()
    client.force_login(agent)
    assert client.post(reverse("desk:mail-attach", args=[inbound.pk])).status_code == 302
    inbound.refresh_from_db()
    message = inbound.message
    assert message is not None and message.ticket == ticket
    assert message.is_internal and message.author is None and message.author_contact is None
    assert message.sender == agent.email.lower() and not message.from_outside
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED and clocks(ticket) == before
    assert OutboundMail.objects.count() == mails_before
    assert "Nouvel IBAN" in page(agent, ticket)
    assert "By mail from a staff address" in page(agent, ticket)
    customer = mail_world.alice.user
    assert customer is not None
    assert "Nouvel IBAN" not in page(customer, ticket)
    api = Client()
    api.force_login(customer)
    listing = api.get(f"/api/tickets/{ticket.reference}/messages/")
    assert listing.status_code == 200 and "IBAN" not in listing.content.decode()


def test_a_staff_from_on_an_open_ticket_is_an_internal_note_changing_nothing(
    mail_world: MailWorld,
) -> None:
    ticket, _ = open_by_mail()
    agent = mail_world.world.agent_eu
    services.ticket_reply(ticket=ticket, author=agent, body="Pouvez-vous envoyer le journal ?")
    services.ticket_change_status(ticket=ticket, actor=agent, status=Status.WAITING_ON_CUSTOMER)
    question = OutboundMail.objects.get(ticket=ticket, kind=OutboundMail.Kind.REPLY)
    before, mails_before = clocks(ticket), OutboundMail.objects.count()
    inbound = receive(
        outlook(
            froms=(f"Agent <{agent.email}>",),
            in_reply_to=question.mail_id,
            references=f"{OPENING} {question.mail_id}",
            body="Voici le journal, le client me l'a transmis.",
        )
    )
    assert inbound.status == InboundMail.Status.APPENDED
    assert inbound.reason == FROM_STAFF_ADDRESS
    message = inbound.message
    assert message is not None and message.is_internal and message.author is None
    assert message.sender == agent.email.lower()
    ticket.refresh_from_db()
    assert ticket.status == Status.WAITING_ON_CUSTOMER  # not "the customer answered"
    assert clocks(ticket) == before and OutboundMail.objects.count() == mails_before
    assert "le client me l'a transmis" in page(agent, ticket)
    assert "le client me l" not in page(mail_world.alice.user, ticket)  # type: ignore[arg-type]


# --- machines in the thread ---------------------------------------------------------------------


def test_an_auto_reply_from_outside_is_kept_for_agents_only(mail_world: MailWorld) -> None:
    ticket, confirmation = open_by_mail()
    agent = mail_world.world.agent_eu
    services.ticket_change_status(ticket=ticket, actor=agent, status=Status.CLOSED)
    before = clocks(ticket)
    # A stranger dresses a phishing mail as an auto-reply in the thread of a closed ticket.
    stranger = gmail(
        sender=EVE,
        message_id="<CAB1eve-auto@mail.gmail.com>",
        in_reply_to=confirmation.mail_id,
        references=f"{OPENING} {confirmation.mail_id}",
        body="Absent. Pour toute urgence : https://evil.test/login",
    ).replace(b"Subject: ", b"Auto-Submitted: auto-replied\r\nSubject: ", 1)
    inbound = receive(stranger)
    assert (inbound.status, inbound.reason) == (InboundMail.Status.APPENDED, "auto-submitted")
    message = inbound.message
    assert message is not None and message.is_automatic and message.from_outside
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED and clocks(ticket) == before
    assert "evil.test/login" in page(agent, ticket)
    assert "evil.test/login" not in page(mail_world.alice.user, ticket)  # type: ignore[arg-type]
    # A bounce from the customer's own mail server still reaches the agents.
    bounce = gmail(
        sender="Mail Delivery System <MAILER-DAEMON@acme.test>",
        message_id="<bounce-0001@mx.acme.test>",
        in_reply_to=confirmation.mail_id,
        references=f"{OPENING} {confirmation.mail_id}",
        body="Delivery to alice@acme.test failed: mailbox full.",
    )
    bounced = receive(bounce)
    assert bounced.status == InboundMail.Status.APPENDED
    assert bounced.reason == "delivery status notification"
    assert bounced.message is not None and bounced.message.from_outside
    assert "mailbox full" in page(agent, ticket)
    # Alice's own out-of-office is hers: automatic, and shown to her.
    own = receive(
        gmail(
            message_id="<CAB1alice-ooo@mail.gmail.com>",
            in_reply_to=confirmation.mail_id,
            references=f"{OPENING} {confirmation.mail_id}",
            body="Je suis absente jusqu'au 30 novembre.",
        ).replace(b"Subject: ", b"Auto-Submitted: auto-replied\r\nSubject: ", 1)
    )
    assert own.message is not None and own.message.is_automatic
    assert not own.message.from_outside
    assert "absente jusqu" in page(mail_world.alice.user, ticket)  # type: ignore[arg-type]


# --- the desk and the ticket of a held reply ------------------------------------------------------


def test_a_reply_belongs_to_its_tickets_desk_whatever_address_it_was_sent_to(
    mail_world: MailWorld,
) -> None:
    ticket, confirmation = open_by_mail()
    assert ticket.desk == mail_world.europe
    agent = mail_world.world.agent_eu
    services.ticket_change_status(ticket=ticket, actor=agent, status=Status.RESOLVED)
    held = receive(
        apple_mail(
            sender=EVE,
            to="support-na@pacte.test",
            message_id="<EVE-NA-0001@unknown.test>",
            in_reply_to=confirmation.mail_id,
            references=f"{OPENING} {confirmation.mail_id}",
        ),
        recipient="support-na@pacte.test",
    )
    assert held.status == InboundMail.Status.REVIEW and held.desk == mail_world.europe
    client = Client()
    client.force_login(agent)
    listing = client.get(reverse("desk:mail-list") + "?tab=review").content.decode()
    assert reverse("desk:mail-detail", args=[held.pk]) in listing
    # The customer's own reply to the other desk's address lands on the ticket's desk too.
    own = receive(
        gmail(
            to="support-na@pacte.test",
            delivered_to="support-na@pacte.test",
            message_id="<CAB1alice-na@mail.gmail.com>",
            in_reply_to=confirmation.mail_id,
            references=f"{OPENING} {confirmation.mail_id}",
        ),
        recipient="support-na@pacte.test",
    )
    assert own.status == InboundMail.Status.APPENDED and own.desk == mail_world.europe


def test_a_held_reply_goes_to_the_ticket_its_ticket_was_merged_into(
    mail_world: MailWorld,
) -> None:
    duplicate, confirmation = open_by_mail()
    agent = mail_world.world.agent_eu
    services.ticket_change_status(ticket=duplicate, actor=agent, status=Status.RESOLVED)
    held = receive(
        apple_mail(
            sender=EVE,
            message_id="<EVE-MERGE-0001@unknown.test>",
            in_reply_to=confirmation.mail_id,
            references=f"{OPENING} {confirmation.mail_id}",
            body="Hello,\n\nStill broken here.",
        )
    )
    assert held.status == InboundMail.Status.REVIEW and held.ticket == duplicate
    goes_on = services.ticket_create(
        requester=mail_world.alice,
        subject="Export",
        description="L'export échoue.",
        severity="major",
        channel="web",
        actor=None,
    )
    services.ticket_merge(source=duplicate, target=goes_on, actor=agent)
    message = ingest.mail_review_attach(inbound=held, actor=agent)
    assert message.ticket == goes_on and message.from_outside
    held.refresh_from_db()
    assert held.ticket == goes_on and held.desk == goes_on.desk


# --- which desk --------------------------------------------------------------------------------


def test_the_first_desk_in_to_picks_the_desk_whichever_copy_arrives_first(
    mail_world: MailWorld,
) -> None:
    both = '"Support NA" <support-na@pacte.test>, "Support EU" <support-eu@pacte.test>'
    raw = outlook(froms=("Bob Stone <bob@globex.test>",), to=both, subject="Export")
    # The copy delivered to the European address arrives first...
    first = mail_receive(raw=raw, source=PIPE, recipient="support-eu@pacte.test")
    # ...then the North American one: the same mail, a duplicate.
    second = mail_receive(raw=raw, source=PIPE, recipient="support-na@pacte.test")
    assert second.duplicate and Ticket.objects.count() == 1
    assert first.inbound.desk == mail_world.north_america
    assert first.inbound.ticket is not None
    assert first.inbound.ticket.desk == mail_world.north_america
    # The other way round, the same desk.
    other = outlook(
        froms=("Bob Stone <bob@globex.test>",),
        to=both,
        subject="Import",
        message_id="<PR3other@PR3P192MB0714.EURP192.PROD.OUTLOOK.COM>",
    )
    reversed_first = receive(other, recipient="support-na@pacte.test")
    assert receive(other, recipient="support-eu@pacte.test").pk == reversed_first.pk
    assert reversed_first.desk == mail_world.north_america


def test_cc_counts_when_to_names_no_desk_and_the_envelope_only_when_neither_does(
    mail_world: MailWorld,
) -> None:
    mail_world.world.globex.desks.add(mail_world.europe)  # both desks serve Globex
    # Gmail, to a colleague with both desks in Cc, this copy delivered to North America.
    cc = receive(
        gmail(
            sender="Bob Stone <bob@globex.test>",
            to="Carla <carla@globex.test>",
            cc="support-eu@pacte.test, support-na@pacte.test",
            delivered_to="support-na@pacte.test",
            message_id="<CAB1cc@mail.gmail.com>",
        ),
        recipient="support-na@pacte.test",
    )
    assert cc.desk == mail_world.europe
    # Apple Mail, the desk in Bcc: only the envelope names it.
    bcc = receive(
        apple_mail(
            sender="Bob Stone <bob@globex.test>",
            to="Carla <carla@globex.test>",
            message_id="<BCC-0001@globex.test>",
        ),
        recipient="support-na@pacte.test",
    )
    assert bcc.desk == mail_world.north_america
    # A desk in To wins over one in Cc.
    to_first = receive(
        apple_mail(
            sender="Bob Stone <bob@globex.test>",
            to="support-na@pacte.test",
            cc="support-eu@pacte.test",
            message_id="<TO-0001@globex.test>",
        ),
        recipient="support-eu@pacte.test",
    )
    assert to_first.desk == mail_world.north_america


def test_a_new_ticket_goes_to_a_desk_that_serves_the_contacts_organization(
    mail_world: MailWorld,
) -> None:
    # Acme is served by Europe only; Alice writes to North America first, Europe in Cc.
    both = gmail(
        to="support-na@pacte.test",
        cc="support-eu@pacte.test",
        delivered_to="support-na@pacte.test",
        message_id="<CAB1serving-both@mail.gmail.com>",
    )
    first = mail_receive(raw=both, source=PIPE, recipient="support-na@pacte.test")
    assert first.inbound.ticket is not None
    assert first.inbound.ticket.desk == mail_world.europe
    # Whichever copy arrives first: the European copy is a duplicate of the same ticket.
    again = mail_receive(raw=both, source=PIPE, recipient="support-eu@pacte.test")
    assert again.duplicate and Ticket.objects.count() == 1
    # Only a desk that does not serve Acme in the headers: the desk Alice gets on the portal.
    only_na = receive(
        outlook(
            to="support-na@pacte.test",
            message_id="<PR3only-na@PR3P192MB0714.EURP192.PROD.OUTLOOK.COM>",
        ),
        recipient="support-na@pacte.test",
    )
    assert only_na.ticket is not None and only_na.ticket.desk == mail_world.europe
    # A Bcc to a serving desk is not consulted when the headers name a desk: the European
    # copy (the Bcc) and the North American one (To) must give the same desk.
    bcc = apple_mail(
        sender="Alice Martin <alice@acme.test>",
        to="support-na@pacte.test",
        message_id="<BCC-serving@acme.test>",
    )
    copy = receive(bcc, recipient="support-eu@pacte.test")
    assert copy.ticket is not None and copy.ticket.desk == mail_world.europe
    # The envelope decides when the headers name no desk, if its desk serves the contact.
    hidden = receive(
        apple_mail(
            sender="Bob Stone <bob@globex.test>",
            to="Carla <carla@globex.test>",
            message_id="<BCC-bob-eu@globex.test>",
        ),
        recipient="support-eu@pacte.test",
    )
    assert hidden.ticket is not None
    assert hidden.ticket.desk in mail_world.bob.organization.desks.all()
    assert hidden.ticket.desk != mail_world.europe


def test_a_strangers_message_id_never_reaches_the_customers_headers(
    mail_world: MailWorld,
) -> None:
    ticket, _ = open_by_mail()
    agent = mail_world.world.agent_eu
    services.ticket_reply(ticket=ticket, author=agent, body="Pouvez-vous envoyer le journal ?")
    question = OutboundMail.objects.get(ticket=ticket, kind=OutboundMail.Kind.REPLY)
    stranger_id = "<call-555-0100-for-refund@rival.test>"
    receive(
        apple_mail(
            sender=EVE,
            message_id=stranger_id,
            in_reply_to=question.mail_id,
            references=f"{OPENING} {question.mail_id}",
            body="Call us for your refund.",
        )
    )
    staff_note_id = "<PR3forged-agent@PR3P192MB0714.EURP192.PROD.OUTLOOK.COM>"
    receive(
        outlook(
            froms=(f"Agent <{agent.email}>",),
            message_id=staff_note_id,
            in_reply_to=question.mail_id,
            references=f"{OPENING} {question.mail_id}",
        )
    )
    services.ticket_reply(ticket=ticket, author=agent, body="Merci, nous regardons.")
    answer = OutboundMail.objects.filter(ticket=ticket, kind=OutboundMail.Kind.REPLY).last()
    assert answer is not None and answer != question
    headers = f"{answer.in_reply_to} {answer.references}"
    assert stranger_id not in headers and staff_note_id not in headers
    assert answer.in_reply_to == question.mail_id  # still threaded with Pacte's last mail
    assert OPENING in answer.references


def test_a_contact_whose_sign_in_was_turned_off_moves_nothing_by_mail(
    mail_world: MailWorld,
) -> None:
    ticket, _ = open_by_mail()
    agent = mail_world.world.agent_eu
    services.ticket_change_status(ticket=ticket, actor=agent, status=Status.RESOLVED)
    resolution = OutboundMail.objects.filter(ticket=ticket).last()
    assert resolution is not None
    user = mail_world.alice.user
    assert user is not None
    user.is_active = False
    user.save(update_fields=["is_active"])
    inbound = receive(
        gmail(
            message_id="<CAB1after-leaving@mail.gmail.com>",
            in_reply_to=resolution.mail_id,
            references=f"{OPENING} {resolution.mail_id}",
            body="Please reopen.",
        )
    )
    assert (inbound.status, inbound.reason) == (InboundMail.Status.REVIEW, FROM_OUTSIDE)
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED


def test_a_held_reply_from_outside_suggests_no_contact_to_credit_it_to(
    mail_world: MailWorld,
) -> None:
    ticket, _ = open_by_mail()
    agent = mail_world.world.agent_eu
    services.ticket_change_status(ticket=ticket, actor=agent, status=Status.RESOLVED)
    resolution = OutboundMail.objects.filter(ticket=ticket).last()
    assert resolution is not None
    # From Alice's own domain, but not a contact: her colleague, or someone posing as one.
    inbound = receive(
        apple_mail(
            sender='"Alice Martin <alice@acme.test>" <eve@acme.test>',
            message_id="<eve-at-acme@acme.test>",
            in_reply_to=resolution.mail_id,
            references=f"{OPENING} {resolution.mail_id}",
        )
    )
    assert inbound.status == InboundMail.Status.REVIEW and inbound.ticket == ticket
    client = Client()
    client.force_login(agent)
    html = client.get(reverse("desk:mail-detail", args=[inbound.pk])).content.decode()
    contact_choice = html.split('name="contact"')[1].split("</select>")[0]
    assert 'value="" selected>' in contact_choice and contact_choice.count("selected") == 1
    # The address comes first; the name the sender gave itself is shown as a claim.
    assert 'eve@acme.test <span class="muted">(calls themselves' in html
