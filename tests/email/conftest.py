"""The mail cast: desk addresses and contacts the corpus (tests/email/corpus) writes to and from."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest
from django.utils import timezone

from sla.models import Calendar
from tests.factories import ContactFactory, DeskFactory, OrganizationFactory, World, make_world
from tests.mailservers import DovecotServer, SmtpSink, dovecot_server, smtp_sink
from tickets.models import Contact, Desk, Organization, Region


@dataclass
class MailWorld:
    world: World
    europe: Desk  # support-eu@pacte.test, the default desk
    north_america: Desk  # support-na@pacte.test
    acme: Organization
    alice: Contact  # alice@acme.test
    amir: Contact  # amir@acme.test, Acme's admin
    bob: Contact  # bob@globex.test
    carol: Contact  # carol@expired.test: organization not under contract


@pytest.fixture
def mail_world(db: None, settings: object) -> MailWorld:
    world = make_world()
    europe = world.europe
    europe.email = "support-eu@pacte.test"
    europe.save()
    north_america = DeskFactory(
        slug="na",
        name="North America",
        region=Region.NORTH_AMERICA,
        calendar=Calendar.objects.get(slug="north-america"),
        email="support-na@pacte.test",
    )
    world.globex.desks.add(north_america)
    settings.PACTE_MAIL_DEFAULT_DESK = "eu"  # type: ignore[attr-defined]
    for contact, address in (
        (world.alice, "alice@acme.test"),
        (world.amir, "amir@acme.test"),
        (world.bob, "bob@globex.test"),
    ):
        contact.email = address
        contact.save()
    world.alice.name = "Alice Martin"
    world.alice.language = "fr"
    world.alice.save()
    expired = OrganizationFactory(name="Expired", slug="expired", under_contract=False)
    expired.desks.add(europe)
    carol = ContactFactory(organization=expired, email="carol@expired.test", user=None)
    return MailWorld(
        world=world,
        europe=europe,
        north_america=north_america,
        acme=world.acme,
        alice=world.alice,
        amir=world.amir,
        bob=world.bob,
        carol=carol,
    )


def build_mail(
    *,
    sender: str = "Alice Martin <alice@acme.test>",
    to: str = "support-eu@pacte.test",
    subject: str = "L'export ne fonctionne plus",
    body: str = "Bonjour,\n\nL'export CSV échoue depuis ce matin.\n\nAlice",
    html: str = "",
    message_id: str | None = None,
    in_reply_to: str = "",
    references: str = "",
    headers: dict[str, str] | None = None,
    attachments: list[tuple[str, str, bytes]] = (),  # type: ignore[assignment]
) -> bytes:
    """A well-formed message, as a mail client would send it."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(timezone.now())
    message["Message-ID"] = message_id or make_msgid(domain="mail.acme.test")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = references
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    if html:
        message.add_alternative(html, subtype="html")
    for filename, content_type, content in attachments:
        maintype, subtype = content_type.split("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return bytes(message)


DESK_PASSWORD = "desk-secret"


@pytest.fixture
def dovecot() -> Iterator[DovecotServer]:
    """A real IMAP server holding the two desks' mailboxes."""
    yield from dovecot_server(
        {"support-eu@pacte.test": DESK_PASSWORD, "support-na@pacte.test": DESK_PASSWORD}
    )


@pytest.fixture
def smtp(settings: object) -> Iterator[SmtpSink]:
    """A real SMTP server that Pacte sends its mail to."""
    for sink in smtp_sink():
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"  # type: ignore[attr-defined]
        settings.EMAIL_HOST, settings.EMAIL_PORT = sink.host, sink.port  # type: ignore[attr-defined]
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False  # type: ignore[attr-defined]
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""  # type: ignore[attr-defined]
        yield sink
