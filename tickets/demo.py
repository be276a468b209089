"""Demo data modelled on the two SLA documents: `python manage.py seed_demo` (idempotent)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from email.message import EmailMessage
from email.utils import format_datetime

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from sla.models import Calendar, SlaPolicy
from tickets import services
from tickets.channels.chat import services as chat_services
from tickets.channels.email.ingest import mail_receive
from tickets.models import (
    Channel,
    Contact,
    Desk,
    InboundMail,
    Organization,
    OutboundMail,
    Region,
    Severity,
    Status,
    Ticket,
    User,
)

DEMO_PASSWORD = "pacte-demo"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    description: str


LOGINS = [
    DemoLogin("maya", "manager", "Manager and head of support: every desk, configuration"),
    DemoLogin("admin", "manager", "Superuser for the Django admin"),
    DemoLogin("anna", "agent", "Agent, Europe desk (Berlin hours)"),
    DemoLogin("nate", "agent", "Agent, North America desk (New York hours)"),
    DemoLogin("fanny", "agent", "Agent, France desk (Paris hours)"),
    DemoLogin("klaus", "customer", "Kiosk Vision (99.5 %), organization admin, Europe"),
    DemoLogin("petra", "customer", "Kiosk Vision (99.5 %), member, Europe"),
    DemoLogin("olivia", "customer", "Kiosk Vision (99.5 %), member, North America"),
    DemoLogin("camille", "customer", "Eventia (99.8 %), organization admin, France"),
]


def _user(
    username: str,
    role: str,
    first: str,
    last: str,
    *,
    language: str = "en",
    time_zone: str = "",
    staff: bool = False,
    superuser: bool = False,
) -> User:
    user, created = User.objects.get_or_create(
        username=username,
        defaults={
            "role": role,
            "first_name": first,
            "last_name": last,
            "email": f"{username}@pacte.example",
            "language": language,
            "time_zone": time_zone,
            "is_staff": staff,
            "is_superuser": superuser,
        },
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    return user


def _contact(
    org: Organization,
    user: User,
    email: str,
    *,
    role: str = Contact.Role.MEMBER,
    region: str = Region.EUROPE,
    language: str = "en",
) -> Contact:
    contact, _ = Contact.objects.get_or_create(
        email=email,
        defaults={
            "organization": org,
            "user": user,
            "name": user.get_full_name(),
            "role": role,
            "region": region,
            "language": language,
        },
    )
    return contact


@transaction.atomic
def demo_seed() -> list[DemoLogin]:
    policy = SlaPolicy.objects.get(slug="standard")
    maya = _user("maya", User.Role.MANAGER, "Maya", "Schneider", staff=True)
    if not maya.head_of_support:
        maya.head_of_support = True  # alerted when a deadline is far overrun
        maya.save(update_fields=["head_of_support"])
    _user("admin", User.Role.MANAGER, "Admin", "Pacte", staff=True, superuser=True)
    anna = _user("anna", User.Role.AGENT, "Anna", "Becker", time_zone="Europe/Berlin")
    nate = _user("nate", User.Role.AGENT, "Nate", "Walker", time_zone="America/New_York")
    fanny = _user(
        "fanny", User.Role.AGENT, "Fanny", "Moreau", language="fr", time_zone="Europe/Paris"
    )

    europe, _ = Desk.objects.get_or_create(
        slug="europe",
        defaults={
            "name": "Europe",
            "region": Region.EUROPE,
            "calendar": Calendar.objects.get(slug="europe"),
            "email": "support-eu@pacte.example",
            "lead": anna,
        },
    )
    america, _ = Desk.objects.get_or_create(
        slug="north-america",
        defaults={
            "name": "North America",
            "region": Region.NORTH_AMERICA,
            "calendar": Calendar.objects.get(slug="north-america"),
            "email": "support-us@pacte.example",
            "lead": nate,
        },
    )
    france, _ = Desk.objects.get_or_create(
        slug="france",
        defaults={
            "name": "France",
            "region": Region.EUROPE,
            "calendar": Calendar.objects.get(slug="france"),
            "email": "support@eventia.pacte.example",
            "lead": fanny,
        },
    )
    europe.agents.add(anna)
    america.agents.add(nate)
    france.agents.add(fanny)

    kiosk, created_kiosk = Organization.objects.get_or_create(
        slug="kiosk-vision",
        defaults={
            "name": "Kiosk Vision",
            "sla_policy": policy,
            "availability_commitment": Decimal("99.500"),
        },
    )
    kiosk.desks.add(europe, america)
    eventia, _ = Organization.objects.get_or_create(
        slug="eventia",
        defaults={
            "name": "Eventia",
            "sla_policy": policy,
            "availability_commitment": Decimal("99.800"),
        },
    )
    eventia.desks.add(france)
    for organization, domain in ((kiosk, "kiosk-vision.example"), (eventia, "eventia.example")):
        if not organization.chat_secret:  # managers try the widget at /chat/widget/try/
            organization.chat_domains = domain
            organization.save(update_fields=["chat_domains"])
            chat_services.organization_chat_secret_rotate(organization=organization)

    klaus = _contact(
        kiosk,
        _user("klaus", User.Role.CUSTOMER, "Klaus", "Richter", time_zone="Europe/Berlin"),
        "klaus@kiosk-vision.example",
        role=Contact.Role.ADMIN,
    )
    petra = _contact(
        kiosk,
        _user("petra", User.Role.CUSTOMER, "Petra", "Wolf", time_zone="Europe/Berlin"),
        "petra@kiosk-vision.example",
    )
    olivia = _contact(
        kiosk,
        _user("olivia", User.Role.CUSTOMER, "Olivia", "Brooks", time_zone="America/Chicago"),
        "olivia@kiosk-vision.example",
        region=Region.NORTH_AMERICA,
    )
    camille = _contact(
        eventia,
        _user(
            "camille",
            User.Role.CUSTOMER,
            "Camille",
            "Durand",
            language="fr",
            time_zone="Europe/Paris",
        ),
        "camille@eventia.example",
        role=Contact.Role.ADMIN,
        language="fr",
    )

    _demo_knowledge(anna=anna, europe=europe)
    if created_kiosk:
        _demo_tickets(
            klaus=klaus,
            petra=petra,
            olivia=olivia,
            camille=camille,
            anna=anna,
            nate=nate,
            fanny=fanny,
            maya=maya,
        )
        _demo_mail(petra=petra, anna=anna)
        _demo_availability(kiosk=kiosk, eventia=eventia)
        # The demo's history was mailed back then: nothing for the first sweep to print.
        OutboundMail.objects.filter(state=OutboundMail.State.PENDING).update(
            state=OutboundMail.State.SENT, sent_at=timezone.now()
        )
    return LOGINS


def _demo_tickets(
    *,
    klaus: Contact,
    petra: Contact,
    olivia: Contact,
    camille: Contact,
    anna: User,
    nate: User,
    fanny: User,
    maya: User,
) -> None:
    now = timezone.now()

    def open_(
        contact: Contact,
        subject: str,
        severity: str,
        hours_ago: float,
        body: str,
        channel: str = Channel.WEB,
    ) -> Ticket:
        assert contact.user is not None
        return services.ticket_create(
            requester=contact,
            subject=subject,
            description=body,
            severity=severity,
            channel=channel,
            actor=contact.user,
            received_at=now - timedelta(hours=hours_ago),
        )

    # New, untouched.
    open_(
        petra,
        "Kiosk terminals show a blank screen after the update",
        Severity.BLOCKING,
        2,
        "Since this morning's update, 14 of our 20 terminals in Köln show a blank white "
        "screen after start-up.",
    )
    open_(
        olivia,
        "Remote configuration does not save the idle timeout",
        Severity.MAJOR,
        30,
        "Changing the idle timeout in the online console has no effect on the devices.",
    )
    open_(
        camille,
        "Le badge imprimé coupe le nom des participants",
        Severity.MINOR,
        5,
        "Sur les badges, les noms de plus de 20 caractères sont coupés.",
    )
    # Acknowledged by a reply.
    t = open_(
        klaus,
        "Reports export is missing the last day",
        Severity.MAJOR,
        50,
        "The monthly CSV export stops one day before the end of the month.",
    )
    services.ticket_assign(ticket=t, actor=anna, assignee=anna)
    services.ticket_reply(
        ticket=t, author=anna, body="Thanks Klaus, we can reproduce it and are working on a fix."
    )
    # In progress, with an internal note.
    t = open_(
        camille,
        "Inscriptions : le formulaire refuse les adresses .paris",
        Severity.MAJOR,
        20,
        "Les participants avec une adresse en .paris ne peuvent pas s'inscrire.",
    )
    services.ticket_acknowledge(ticket=t, actor=fanny)
    services.ticket_change_status(ticket=t, actor=fanny, status=Status.IN_PROGRESS)
    services.ticket_reply(
        ticket=t,
        author=fanny,
        internal=True,
        body="Validation regex vient de la lib email-validator, à mettre à jour.",
    )
    # Waiting on the customer.
    t = open_(
        olivia,
        "Printer on kiosk #12 prints blank receipts",
        Severity.MINOR,
        70,
        "The receipt printer on kiosk 12 prints empty tickets.",
    )
    services.ticket_reply(
        ticket=t,
        author=nate,
        body="Could you send us the printer model and a photo of the settings page?",
    )
    services.ticket_change_status(ticket=t, actor=nate, status=Status.WAITING_ON_CUSTOMER)
    # Resolved, then closed.
    t = open_(
        petra,
        "Screensaver video stutters",
        Severity.MINOR,
        120,
        "The screensaver video stutters on the new hardware.",
    )
    services.ticket_reply(
        ticket=t, author=anna, body="Fixed by the graphics driver update pushed tonight."
    )
    services.ticket_change_status(ticket=t, actor=anna, status=Status.RESOLVED)
    t = open_(
        camille,
        "Export Excel des présences vide",
        Severity.MAJOR,
        200,
        "L'export des présences de l'événement du 12 est vide.",
        channel=Channel.WEB,
    )
    services.ticket_reply(ticket=t, author=fanny, body="Corrigé, l'export est de nouveau complet.")
    services.ticket_change_status(ticket=t, actor=fanny, status=Status.RESOLVED)
    services.ticket_change_status(ticket=t, actor=fanny, status=Status.CLOSED)
    # Reclassified by the manager, and an old one that is overdue.
    t = open_(
        klaus,
        "Login page slow in the afternoon",
        Severity.BLOCKING,
        6,
        "The console login takes 30 seconds after 14:00.",
    )
    services.ticket_reclassify(
        ticket=t,
        actor=maya,
        severity=Severity.MAJOR,
        reason="Slow but usable: not a stoppage of the product.",
    )
    open_(
        petra,
        "Kiosk browser ignores the URL whitelist",
        Severity.MAJOR,
        24 * 9,
        "Users can leave the whitelisted pages through a PDF link.",
    )


def _mail(
    *,
    sender: str,
    to: str,
    subject: str,
    text: str,
    sent_at: datetime,
    message_id: str,
    in_reply_to: str = "",
    html: str = "",
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(sent_at)
    message["Message-ID"] = message_id
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    return bytes(message)


def _demo_mail(*, petra: Contact, anna: User) -> None:
    """A conversation by mail (with a quoted reply) and a mail from a stranger, held."""
    now = timezone.now()
    opened = mail_receive(
        raw=_mail(
            sender=f"Petra Wolf <{petra.email}>",
            to="support-eu@pacte.example",
            subject="Card reader rejects contactless payments",
            text=(
                "Hello,\n\nSince Monday the card readers of our Hamburg kiosks reject "
                "contactless payments; chip and PIN still works.\n\nBest regards,\nPetra\n"
                "-- \nPetra Wolf | Kiosk Vision | Operations"
            ),
            html=(
                "<p>Hello,</p><p>Since Monday the card readers of our <b>Hamburg</b> kiosks "
                "reject contactless payments; chip and PIN still works.</p>"
                "<p>Best regards,<br>Petra</p>"
            ),
            sent_at=now - timedelta(hours=26),
            message_id="<demo-card-reader@kiosk-vision.example>",
        ),
        source=InboundMail.Source.IMAP,
    ).inbound
    ticket = opened.ticket
    if ticket is None:
        return
    services.ticket_reply(
        ticket=ticket,
        author=anna,
        body="Hello Petra, which firmware version do the readers show on their status page?",
    )
    services.ticket_change_status(ticket=ticket, actor=anna, status=Status.WAITING_ON_CUSTOMER)
    question = OutboundMail.objects.filter(ticket=ticket, kind=OutboundMail.Kind.REPLY).first()
    mail_receive(
        raw=_mail(
            sender=f"Petra Wolf <{petra.email}>",
            to="support-eu@pacte.example",
            subject=f"RE: [{ticket.reference}] Card reader rejects contactless payments",
            text=(
                "Hi Anna,\n\nThey show firmware 4.2.1 (updated last Sunday).\n\nPetra\n\n"
                "From: Europe <support-eu@pacte.example>\nSent: Tuesday 10:12\n"
                f"Subject: [{ticket.reference}] Card reader rejects contactless payments\n\n"
                "Hello Petra, which firmware version do the readers show on their status page?"
            ),
            sent_at=now - timedelta(hours=3),
            message_id="<demo-card-reader-2@kiosk-vision.example>",
            in_reply_to=question.mail_id if question else "",
        ),
        source=InboundMail.Source.IMAP,
    )
    mail_receive(
        raw=_mail(
            sender="Jonas Keller <jonas@kiosk-partner.example>",
            to="support-eu@pacte.example",
            subject="Kiosk in the Frankfurt station does not print",
            text="Hello, the kiosk next to platform 9 prints nothing. Can you help?\nJonas",
            sent_at=now - timedelta(hours=1),
            message_id="<demo-stranger@kiosk-partner.example>",
        ),
        source=InboundMail.Source.IMAP,
    )


AREAS = [
    ("installation", "Installation & updates", 0),
    ("kiosk-hardware", "Kiosk hardware", 1),
    ("account", "Accounts & access", 2),
    ("reports", "Reports & exports", 3),
]

ARTICLES = [
    (
        "installation",
        "en",
        "The screen stays blank after an update",
        "blank screen, black screen, update, restart",
        "A kiosk shows a blank screen when the update finished but the display service did "
        "not restart.\n\nOpen the maintenance menu (hold the top-left corner for five seconds),"
        " choose Restart display, and wait one minute. If the screen is still blank, unplug the "
        "kiosk for ten seconds.\n\nStill blank after that? Report a blocking incident with the "
        "kiosk's serial number.",
    ),
    (
        "installation",
        "fr",
        "L'écran reste noir après une mise à jour",
        "écran noir, écran blanc, mise à jour, redémarrer",
        "Une borne affiche un écran noir quand la mise à jour est terminée mais que le service "
        "d'affichage n'a pas redémarré.\n\nOuvrez le menu de maintenance (appui de cinq "
        "secondes en haut à gauche), choisissez Redémarrer l'affichage et patientez une minute."
        "\n\nToujours noir ? Signalez un incident bloquant avec le numéro de série de la borne.",
    ),
    (
        "kiosk-hardware",
        "en",
        "The card reader refuses contactless payments",
        "card reader, contactless, NFC, payment",
        "Contactless payments need the reader's firmware 4.2 or later. The kiosk's About page "
        "shows the version.\n\nIf it is older, the next nightly update installs it; to install "
        "it now, choose Update reader in the maintenance menu.",
    ),
    (
        "account",
        "en",
        "Reset a kiosk administrator's password",
        "password, login, locked, administrator",
        "An organization admin can reset any administrator's password from Settings → Users."
        "\n\nAfter five failed attempts an account is locked for fifteen minutes.",
    ),
    (
        "account",
        "fr",
        "Réinitialiser le mot de passe d'un administrateur",
        "mot de passe, connexion, bloqué, administrateur",
        "Un administrateur de l'organisation peut réinitialiser le mot de passe de tout "
        "administrateur depuis Paramètres → Utilisateurs.\n\nAprès cinq essais manqués, le "
        "compte est bloqué quinze minutes.",
    ),
    (
        "reports",
        "en",
        "An export is missing the last day",
        "export, report, missing day, time zone, CSV",
        "Exports end at midnight in the organization's time zone. A day that is not over yet is "
        "not included.\n\nTo include today, choose Up to now in the export's period.",
    ),
]

CANNED = [
    (
        "Asking for the kiosk's serial number",
        "To look into this, could you send us the serial number of the kiosk? It is on the "
        "label under the screen and on the About page.",
    ),
    (
        "Fix deployed: please confirm",
        "We deployed a fix a few minutes ago. Could you confirm that everything works again on "
        "your side? Without news from you we will close this ticket in five business days.",
    ),
]


def _demo_knowledge(*, anna: User, europe: Desk) -> None:
    """FAQ areas and articles (English and French) and two canned replies, once."""
    from tickets.models import Article, CannedReply, ProductArea

    areas = {
        slug: ProductArea.objects.get_or_create(
            slug=slug, defaults={"name": name, "position": position}
        )[0]
        for slug, name, position in AREAS
    }
    for area, language, title, keywords, body in ARTICLES:
        Article.objects.get_or_create(
            slug=slugify(title),
            defaults={
                "area": areas[area],
                "language": language,
                "title": title,
                "keywords": keywords,
                "body": body,
                "author": anna,
            },
        )
    for title, body in CANNED:
        CannedReply.objects.get_or_create(
            title=title, defaults={"body": body, "desk": None, "created_by": anna}
        )
    if not CannedReply.objects.filter(desk=europe).exists():
        CannedReply.objects.create(
            title="Europe desk: outside support hours",
            body="Our Europe desk is open Monday to Thursday 9:00–17:00 and Friday 9:00–16:00 "
            "(Berlin time). We will continue first thing when it opens.",
            desk=europe,
            created_by=anna,
        )


def _demo_availability(*, kiosk: Organization, eventia: Organization) -> None:
    """Outages and maintenance for the status pages and the availability figures."""
    from sla.availability import outages

    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    day = timedelta(days=1)
    outages.outage_record(
        organization=kiosk,
        title="Kiosk dashboard unreachable",
        started_at=now - 12 * day,
        ended_at=now - 12 * day + timedelta(hours=1, minutes=40),
    )
    outages.outage_record(
        organization=kiosk,
        title="Remote screen updates delayed",
        started_at=now - 41 * day,
        ended_at=now - 41 * day + timedelta(minutes=25),
    )
    outages.maintenance_announce(
        organization=kiosk,
        title="SiteKiosk Online 9.4 update",
        description="New program version; kiosks keep running, the dashboard is read-only.",
        announced_at=now - 20 * day,
        starts_at=now - 18 * day,
        ends_at=now - 18 * day + timedelta(hours=2),
    )
    outages.maintenance_announce(
        organization=kiosk,
        title="Monthly operational update",
        description="Servers restarted one by one; a few seconds of reconnection.",
        announced_at=now,
        starts_at=now + 6 * day,
        ends_at=now + 6 * day + timedelta(hours=1),
    )
    outages.outage_record(
        organization=eventia,
        title="Badge printing service slow",
        started_at=now - 5 * day,
        ended_at=now - 5 * day + timedelta(minutes=50),
    )
