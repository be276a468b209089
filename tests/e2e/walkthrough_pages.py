"""The walkthrough's world and its pages: the data a demanding reader expects on every screen
(tickets in each state, a breach with its notifications, a chat, a held mail, a help-centre
article, a canned reply, an outage, an invitation), the pages each role reaches from the
navigation, and a visitor that checks each page and saves its screenshot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from sla.availability import outages
from sla.clocks.escalation import clock_escalate
from sla.clocks.selectors import clocks_to_escalate
from sla.models import Clock
from tests.factories import World, make_world, open_ticket
from tickets import services
from tickets.accounts.people import colleague_invite
from tickets.channels.chat import services as chat_services
from tickets.channels.email.ingest import mail_receive
from tickets.models import (
    Article,
    CannedReply,
    InboundMail,
    ProductArea,
    Severity,
    Status,
    Ticket,
    User,
)

# What the customers write, and what support answers, in the reader's language.
TEXTS = {
    "en": {
        "overdue": "Checkout page returns error 500",
        "waiting": "Invoices export is missing May",
        "resolved": "Password reset mail never arrives",
        "fresh": "Dashboard loads slowly in the morning",
        "phoned": "Kiosk printer jams on every receipt",
        "chat": "The kiosk screen is frozen",
        "question": "Which browser and version do you use?",
        "answer": "The mail server had a full queue; it is flowing again.",
        "area": "Payments",
        "article": "Payment errors after a certificate change",
        "canned": "Ask for the browser version",
        "held": "Kiosk in the station does not print",
        "body": "Customers see an error page when they pay; it started this morning.",
        "steps": "Open the article's product, pay by card, and read the error code shown.",
        "outage": "Checkout API unreachable",
        "globex": "API calls time out",
    },
    "fr": {
        "overdue": "La page de paiement renvoie une erreur 500",
        "waiting": "L'export des factures oublie le mois de mai",
        "resolved": "Le courriel de réinitialisation n'arrive jamais",
        "fresh": "Le tableau de bord est lent le matin",
        "phoned": "L'imprimante de la borne bloque à chaque reçu",
        "chat": "L'écran de la borne est figé",
        "question": "Quel navigateur utilisez-vous, et dans quelle version ?",
        "answer": "La file du serveur de messagerie était pleine ; tout repart.",
        "area": "Paiements",
        "article": "Erreurs de paiement après un changement de certificat",
        "canned": "Demander la version du navigateur",
        "held": "La borne de la gare n'imprime plus",
        "body": "Les clients voient une page d'erreur au paiement depuis ce matin.",
        "steps": "Ouvrez la fiche du produit, payez par carte et notez le code d'erreur affiché.",
        "outage": "API de paiement injoignable",
        "globex": "Les appels à l'API expirent",
    },
}
NAMES = {
    "alice": ("Alice", "Martin"),
    "amir": ("Amir", "Benali"),
    "bob": ("Bob", "Keller"),
    "agent_eu": ("Eva", "Lindqvist"),
    "agent_fr": ("Hugo", "Moreau"),
    "manager": ("Inès", "Laurent"),
}
CHATS = "#chat-waiting"  # the queue's banner of chats waiting for an agent, fetched on load


@dataclass
class Walkthrough:
    world: World
    language: str
    overdue: Ticket  # blocking, never acknowledged: both deadlines missed
    waiting: Ticket  # support asked a question
    resolved: Ticket
    fresh: Ticket  # just filed
    phoned: Ticket  # logged by the agent during a call from Acme's administrator
    chat: Ticket  # a chat waiting for an agent
    article: Article
    canned: CannedReply
    held: InboundMail  # from a stranger, held for review

    def text(self, key: str) -> str:
        return TEXTS[self.language][key]


def name_everyone(world: World, language: str) -> None:
    """Real names (the factories draw random ones) and the language of the walkthrough."""
    for contact in (world.alice, world.amir, world.bob):
        username = contact.user.username  # type: ignore[union-attr]  # the world's have users
        contact.name = " ".join(NAMES[username])
        contact.email = f"{username}@{contact.organization.slug}.example.test"
        contact.language = language
        contact.save(update_fields=["name", "email", "language"])
    for user in User.objects.filter(username__in=NAMES):
        user.first_name, user.last_name = NAMES[user.username]
        user.language = language
        user.save(update_fields=["first_name", "last_name", "language"])


# The customer's tickets: what, how severe, filed how long before the walkthrough's "now".
FILED = [
    ("overdue", Severity.BLOCKING, timedelta(days=2, hours=1)),
    ("waiting", Severity.MINOR, timedelta(days=1, hours=3)),
    ("resolved", Severity.MAJOR, timedelta(days=28)),
    ("fresh", Severity.MINOR, timedelta(minutes=20)),
]


def tickets_in_every_state(world: World, texts: dict[str, str]) -> dict[str, Ticket]:
    now, agent, alice = timezone.now(), world.agent_eu, world.alice
    made = {
        key: open_ticket(
            alice, subject=texts[key], body=texts["body"], severity=severity, received_at=now - ago
        )
        for key, severity, ago in FILED
    }
    services.ticket_reply(ticket=made["waiting"], author=agent, body=texts["question"])
    services.ticket_change_status(
        ticket=made["waiting"], actor=agent, status=Status.WAITING_ON_CUSTOMER
    )
    services.ticket_acknowledge(
        ticket=made["resolved"], actor=agent, at=now - timedelta(days=27, hours=23)
    )
    services.ticket_reply(ticket=made["resolved"], author=agent, body=texts["answer"])
    services.ticket_change_status(ticket=made["resolved"], actor=agent, status=Status.RESOLVED)
    made["phoned"] = services.phone_call_log(
        agent=agent, contact=world.amir, subject=texts["phoned"], description=texts["phoned"],
        severity=Severity.MAJOR, called_at=now - timedelta(hours=3), acknowledged=True,
    )  # fmt: skip
    made["chat"] = chat_services.chat_start(
        contact=alice, actor=alice.user, text=texts["chat"], severity=Severity.MAJOR
    ).ticket
    open_ticket(world.bob, subject=texts["globex"], received_at=now - timedelta(hours=5))
    # The sweep ran on time: warnings to the desk's agents, then breaches to the managers.
    for clock in Clock.objects.filter(warn_at__lt=now).order_by("warn_at"):
        clock_escalate(clock_id=clock.pk, now=clock.warn_at or now)
    for clock_id in clocks_to_escalate(now=now):
        clock_escalate(clock_id=clock_id, now=now)
    return made


def held_mail(world: World, subject: str) -> InboundMail:
    message = EmailMessage()
    message["From"] = "Jonas Keller <jonas@kiosk-partner.example>"
    message["To"] = world.europe.email
    message["Subject"] = subject
    message["Date"] = format_datetime(timezone.now() - timedelta(hours=1))
    message["Message-ID"] = "<walkthrough-stranger@kiosk-partner.example>"
    message.set_content("Hello, the kiosk next to platform 9 prints nothing.\nJonas")
    return mail_receive(
        raw=bytes(message), source=InboundMail.Source.IMAP, desk=world.europe
    ).inbound


def build(language: str) -> Walkthrough:
    world = make_world()
    name_everyone(world, language)
    texts = TEXTS[language]
    made = tickets_in_every_state(world, texts)
    area = ProductArea.objects.create(name=texts["area"], slug="payments")
    article = Article.objects.create(
        area=area, title=texts["article"], slug=f"payment-errors-{language}", language=language,
        body=f"{texts['body']}\n\n{texts['steps']}", keywords="payment", author=world.agent_eu,
    )  # fmt: skip
    canned = CannedReply.objects.create(
        title=texts["canned"], body=texts["question"], desk=world.europe, created_by=world.agent_eu
    )
    now = timezone.now()
    outages.outage_record(
        organization=world.acme,
        title=texts["outage"],
        started_at=now - timedelta(days=10, hours=2),
        ended_at=now - timedelta(days=10, hours=1),
    )
    colleague_invite(by=world.amir.user, name="Chloé Petit", email="chloe@acme.example.test")  # type: ignore[arg-type]  # amir has a user
    return Walkthrough(
        world=world, language=language, article=article, canned=canned,
        held=held_mail(world, texts["held"]), **made,
    )  # fmt: skip


@dataclass(frozen=True)
class Stop:
    name: str  # the screenshot's <role>-<name>.png
    path: str
    shows: str = ""  # a text the page must show (its data is there)
    ready: str = ""  # what the page fetches once loaded (htmx), waited for


def url(name: str, *args: object) -> str:
    return reverse(name, args=args)


def ticket_stops(w: Walkthrough) -> list[Stop]:
    ref = w.overdue.reference
    return [
        Stop("ticket", url("tickets:detail", ref), w.overdue.subject),
        Stop("ticket-waiting", url("tickets:detail", w.waiting.reference), w.text("question")),
        Stop("ticket-resolved", url("tickets:detail", w.resolved.reference), w.text("answer")),
        Stop("clock", url("tickets:clock-explain", ref, "acknowledgement"), ref),
    ]


def account_stops() -> list[Stop]:
    return [
        Stop("preferences", url("preferences")),
        Stop("sessions", url("sessions")),
        Stop("api-tokens", url("api-tokens")),
        Stop("password", url("account_change_password")),
        Stop("two-factor", url("mfa_index")),
        Stop("api", url("swagger-ui"), "/api/tickets/", ready=".opblock >> nth=0"),
    ]


def customer_stops(w: Walkthrough) -> list[Stop]:
    article = w.article
    return [
        Stop("tickets", url("tickets:list"), w.overdue.subject),
        *ticket_stops(w),
        Stop("new-ticket", url("tickets:create")),
        Stop("chat", url("chat:start")),
        Stop("chat-room", url("chat:room", w.chat.reference), w.chat.subject),
        Stop("help-centre", url("faq:index"), article.title),
        Stop("help-area", url("faq:area", article.area.slug), article.title),
        Stop("help-article", url("faq:article", article.slug), article.title),
        Stop("service-levels", url("tickets:service-levels")),
        Stop("status", url("status", w.world.acme.slug), w.text("outage")),
        *account_stops(),
    ]


def org_admin_stops(w: Walkthrough) -> list[Stop]:
    return [
        Stop("tickets", url("tickets:list"), w.phoned.subject),
        Stop("ticket", url("tickets:detail", w.overdue.reference), w.overdue.subject),
        Stop("ticket-phoned", url("tickets:detail", w.phoned.reference), w.phoned.subject),
        Stop("new-ticket", url("tickets:create")),
        Stop("service-levels", url("tickets:service-levels")),
        Stop("monthly-reports", url("tickets:reports"), w.world.acme.name),
        Stop("people", url("people"), "Chloé Petit"),
        Stop("preferences", url("preferences")),
    ]


def desk_stops(w: Walkthrough) -> list[Stop]:
    """What agents and managers share: the queue, a ticket, the workspace pages."""
    queue = url("desk:queue")
    return [
        Stop("queue", queue, w.overdue.reference, ready=CHATS),
        Stop("queue-breached", queue + "?view=breached", w.overdue.reference, ready=CHATS),
        *ticket_stops(w),
        Stop("chat-room", url("chat:room", w.chat.reference), w.chat.subject),
        Stop("mail", url("desk:mail-list"), w.held.subject),
        Stop("mail-detail", url("desk:mail-detail", w.held.pk), w.held.subject),
        Stop("canned", url("desk:canned-list"), w.canned.title),
        Stop("canned-edit", url("desk:canned-edit", w.canned.pk)),
        Stop("canned-new", url("desk:canned-new")),
        Stop("articles", url("desk:faq-list"), w.article.title),
        Stop("article-edit", url("desk:faq-edit", w.article.pk)),
        Stop("article-new", url("desk:faq-new")),
        Stop("notifications", url("notifications"), w.overdue.reference),
    ]


def agent_stops(w: Walkthrough) -> list[Stop]:
    return [
        *desk_stops(w),
        Stop("phone-call", url("desk:call")),
        Stop("ticket-phoned", url("tickets:detail", w.phoned.reference), w.phoned.subject),
        *account_stops(),
    ]


def manager_stops(w: Walkthrough) -> list[Stop]:
    acme = w.world.acme
    return [
        *desk_stops(w),
        Stop("reports", url("desk:reports")),
        Stop("reports-year", url("desk:reports") + "?period=year", w.overdue.reference),
        Stop("availability", url("desk:availability"), acme.name),
        Stop("monthly-report", url("desk:monthly-report", acme.slug), acme.name),
        Stop("status", url("status", acme.slug), w.text("outage")),
        Stop("audit", url("desk:audit"), "chloe@acme.example.test"),
        Stop("backups", url("desk:backups")),
        Stop("personal-data", url("desk:personal-data") + "?q=acme", "Amir Benali"),
        Stop("preferences", url("preferences")),
    ]


STOPS = {
    "customer": customer_stops,
    "org-admin": org_admin_stops,
    "agent": agent_stops,
    "manager": manager_stops,
}
# Left behind by a template whose variable or tag was not filled in.
UNFILLED = ("%(", "%s", "{{", "{%", "Traceback")


@dataclass
class Visitor:
    """One signed-in page going from stop to stop; a screenshot of each, and none of them
    wider than the window (a long word or address wraps, a table scrolls in its own box)."""

    page: Page
    base: str
    language: str
    role: str
    folder: Path

    def visit(self, stop: Stop) -> None:
        response = self.page.goto(self.base + stop.path)
        assert response is not None, stop.path
        assert response.status < 400, f"{stop.path} answered {response.status}"
        if stop.ready:
            expect(self.page.locator(stop.ready)).to_be_attached()
        self.check(stop)
        if stop.shows:
            expect(self.page.locator("body")).to_contain_text(stop.shows)
        self.shoot(stop.name)
        wider = self.overflow()
        assert wider == 0, f"{stop.path} is {wider} px wider than the window: it scrolls sideways"

    def check(self, stop: Stop) -> None:
        page = self.page
        assert page.locator("html").get_attribute("lang") == self.language, stop.path
        assert not page.title().startswith("·"), f"{stop.path}: no title"
        expect(page.locator("main h1").first).to_be_visible()
        text = page.locator("body").inner_text()
        left = [marker for marker in UNFILLED if marker in text]
        assert not left, f"{stop.path} shows {left}"

    def shoot(self, name: str) -> None:
        self.page.screenshot(path=self.folder / f"{self.role}-{name}.png", full_page=True)

    def overflow(self) -> int:
        """How many pixels the page is wider than its window (0: none)."""
        return int(self.page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))
