"""Customers, desks, tickets and their history. Data only: every write goes through services."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import ClassVar
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinLengthValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.crypto import EncryptedTextField


class Language(models.TextChoices):
    EN = "en", _("English")
    FR = "fr", _("French")


class Region(models.TextChoices):
    EUROPE = "europe", _("Europe")
    NORTH_AMERICA = "north-america", _("North America")


class Severity(models.TextChoices):
    """Incident classes of the SLA, most urgent first."""

    BLOCKING = "blocking", _("Blocking")
    MAJOR = "major", _("Major")
    MINOR = "minor", _("Minor")


def more_urgent(severity: str, than: str) -> bool:
    """Whether a severity is more urgent than another, both known (a downgrade goes from the
    more urgent to the less)."""
    values = Severity.values
    return severity in values and than in values and values.index(severity) < values.index(than)


class Status(models.TextChoices):
    NEW = "new", _("New")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING_ON_CUSTOMER = "waiting_on_customer", _("Waiting on customer")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


OPEN_STATUSES = (
    Status.NEW,
    Status.ACKNOWLEDGED,
    Status.IN_PROGRESS,
    Status.WAITING_ON_CUSTOMER,
)


class SystemNote(models.TextChoices):
    """Notes Pacte writes in the history; stored in English, shown in the reader's language."""

    FIRST_PUBLIC_REPLY = "first public reply", _("first public reply")
    PHONE_CALL = "phone call logged", _("phone call logged")
    CUSTOMER_ANSWERED = "customer answered", _("customer answered")
    REOPENED_BY_REPLY = "reopened by the customer's reply", _("reopened by the customer's reply")
    ACKNOWLEDGED = "acknowledged", _("acknowledged")
    MERGED = "merged into another ticket", _("merged into another ticket")


class Channel(models.TextChoices):
    WEB = "web", _("Web")
    EMAIL = "email", _("Email")
    CHAT = "chat", _("Chat")
    PHONE = "phone", _("Phone")
    API = "api", _("API")


class User(AbstractUser):
    """Anyone who signs in: a customer contact, an agent or a manager."""

    class Role(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        AGENT = "agent", _("Agent")
        MANAGER = "manager", _("Manager")

    role = models.CharField(_("role"), max_length=16, choices=Role, default=Role.CUSTOMER)
    language = models.CharField(_("language"), max_length=8, choices=Language, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)
    head_of_support = models.BooleanField(
        _("head of support"),
        default=False,
        help_text=_("Alerted when a deadline is far overrun (the policy's last threshold)."),
    )

    @property
    def is_customer(self) -> bool:
        return self.role == self.Role.CUSTOMER

    @property
    def is_agent(self) -> bool:
        return self.role == self.Role.AGENT

    @property
    def is_manager(self) -> bool:
        return self.role == self.Role.MANAGER


class Desk(models.Model):
    """A support team serving one region, with its inbound addresses and business hours."""

    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), unique=True)
    region = models.CharField(_("region"), max_length=32, choices=Region)
    calendar = models.ForeignKey(
        "sla.Calendar", on_delete=models.PROTECT, related_name="desks", verbose_name=_("calendar")
    )
    email = models.EmailField(_("inbound address"), unique=True)
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="led_desks",
        verbose_name=_("lead"),
    )
    agents = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="desks", blank=True, verbose_name=_("agents")
    )
    inbound_secret = EncryptedTextField(
        _("inbound webhook secret"),
        max_length=128,
        blank=True,
        help_text=_(
            "Bearer token of the inbound mail webhook for this desk; empty turns the webhook off."
        ),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("desk")
        verbose_name_plural = _("desks")

    def __str__(self) -> str:
        return self.name


class DeskAddress(models.Model):
    """A further inbound address of a desk (aliases, old addresses)."""

    desk = models.ForeignKey(Desk, on_delete=models.CASCADE, related_name="addresses")
    email = models.EmailField(_("address"), unique=True)

    class Meta:
        verbose_name = _("desk address")
        verbose_name_plural = _("desk addresses")

    def __str__(self) -> str:
        return self.email


_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")


def validate_origins(value: str) -> None:
    """One web origin a line: http(s)://host[:port], nothing before the host nor after it."""
    for line in value.split():
        try:
            parts = urlsplit(line.rstrip("/"))
            port_ok = parts.port is None or parts.port > 0
        except ValueError:
            port_ok = False
        if (
            parts.scheme not in ("http", "https")
            or not _HOST.match(parts.hostname or "")
            or not port_ok
            or "@" in parts.netloc
            or parts.path
            or parts.query
            or parts.fragment
        ):
            raise ValidationError(
                _("%(origin)s is not an origin such as https://app.example.com."),
                params={"origin": line},
            )


def validate_domains(value: str) -> None:
    """One mail domain a line (example.com)."""
    for line in value.split():
        if not _HOST.match(line.lower()) or "." not in line:
            raise ValidationError(
                _("%(domain)s is not a mail domain such as example.com."), params={"domain": line}
            )


class Organization(models.Model):
    """A customer company under contract."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), unique=True)
    under_contract = models.BooleanField(
        _("under contract"),
        default=True,
        help_text=_("Only contacts of an organization under contract may open tickets."),
    )
    sla_policy = models.ForeignKey(
        "sla.SlaPolicy",
        on_delete=models.PROTECT,
        related_name="organizations",
        verbose_name=_("SLA policy"),
    )
    desks = models.ManyToManyField(Desk, related_name="organizations", verbose_name=_("desks"))
    availability_commitment = models.DecimalField(
        _("availability commitment (%)"),
        max_digits=6,
        decimal_places=3,
        default=Decimal("99.500"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    chat_secret = EncryptedTextField(
        _("chat widget secret"),
        max_length=128,
        blank=True,
        validators=[MinLengthValidator(32)],
        help_text=_(
            "Shared with the organization's developers: their product signs its users' chat "
            "tokens with it (HS256). Empty turns the embedded chat widget off; changing it "
            "signs every widget out."
        ),
    )
    chat_domains = models.TextField(
        _("chat widget mail domains"),
        blank=True,
        validators=[validate_domains],
        help_text=_(
            "The widget adds a contact for a new user of the organization's product only when "
            "their address is in one of these domains, one per line (e.g. example.com); "
            "empty: only the organization's existing contacts may chat from the widget."
        ),
    )
    chat_origins = models.TextField(
        _("chat widget origins"),
        blank=True,
        validators=[validate_origins],
        help_text=_(
            "The addresses of the pages that may embed the chat widget, one per line "
            "(scheme, host and port, e.g. https://app.example.com)."
        ),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")

    def __str__(self) -> str:
        return self.name

    @property
    def chat_origin_list(self) -> list[str]:
        return [line.rstrip("/").lower() for line in self.chat_origins.split()]

    def may_add_chat_contact(self, email: str) -> bool:
        domain = email.rpartition("@")[2].lower()
        return domain in {line.lower() for line in self.chat_domains.split()}


class Contact(models.Model):
    """A person of a customer organization; may or may not have a login."""

    class Role(models.TextChoices):
        MEMBER = "member", _("Member")
        ADMIN = "admin", _("Organization admin")

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="contacts"
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contact",
    )
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("email"), unique=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    role = models.CharField(_("role"), max_length=16, choices=Role, default=Role.MEMBER)
    region = models.CharField(_("region"), max_length=32, choices=Region, default=Region.EUROPE)
    language = models.CharField(_("language"), max_length=8, choices=Language, default="en")

    class Meta:
        ordering = ["name"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        constraints: ClassVar = [
            # Mail addresses are compared without case: one contact per address.
            models.UniqueConstraint(Lower("email"), name="contact_email_unique_ci")
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    @property
    def is_org_admin(self) -> bool:
        return self.role == self.Role.ADMIN


REFERENCE_RE = re.compile(r"^([A-Z]+)-(\d{1,12})$")


class Ticket(models.Model):
    """An incident reported by a contact. Its reference (PAC-000123) is derived from its id."""

    subject = models.CharField(_("subject"), max_length=200)
    severity = models.CharField(_("severity"), max_length=16, choices=Severity)
    status = models.CharField(_("status"), max_length=24, choices=Status, default=Status.NEW)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel)
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="tickets")
    requester = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="tickets")
    desk = models.ForeignKey(Desk, on_delete=models.PROTECT, related_name="tickets")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_tickets",
    )
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    # The nearest due instant of a running SLA clock, kept by sla.clocks.services for the queue.
    sla_due_at = models.DateTimeField(_("next SLA deadline"), null=True, blank=True)
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="merged_tickets",
        verbose_name=_("merged into"),
    )

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes: ClassVar = [
            models.Index(fields=["desk", "status", "sla_due_at"]),
            models.Index(fields=["sla_due_at"]),
            # Newest-first lists (API, portal) read these in order instead of sorting.
            models.Index(fields=["-received_at", "-id"], name="ticket_received_desc"),
            models.Index(fields=["desk", "-received_at", "-id"], name="ticket_desk_received_desc"),
            # The SLA report's tickets of a period, with what it groups them by, from the index.
            models.Index(
                fields=["received_at", "merged_into", "severity"], name="ticket_report_received"
            ),
            # PostgreSQL counts and orders open tickets from it (SQLite cannot use it when the
            # statuses are bound parameters, hence the plain sla_due_at index above).
            models.Index(
                fields=["sla_due_at"],
                condition=models.Q(status__in=OPEN_STATUSES),
                name="ticket_open_due",
            ),
            models.Index(fields=["organization", "-received_at"]),
            models.Index(fields=["requester", "-received_at"]),
            models.Index(fields=["assignee", "status"]),
        ]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(severity__in=Severity.values), name="ticket_severity_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=Status.values), name="ticket_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.subject}"

    @property
    def reference(self) -> str:
        return self.reference_for(self.pk)

    @staticmethod
    def reference_for(pk: int) -> str:
        """The reference of the ticket with this id, without a model instance (exports)."""
        return f"{settings.PACTE_TICKET_PREFIX}-{pk:06d}"

    @staticmethod
    def id_from_reference(reference: str) -> int | None:
        """The id a reference such as PAC-000123 names, or None when it is not one of ours."""
        match = REFERENCE_RE.match(reference.strip().upper())
        if match is None or match.group(1) != settings.PACTE_TICKET_PREFIX:
            return None
        return int(match.group(2))

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class Message(models.Model):
    """A public reply or an internal note on a ticket."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="messages",
    )
    author_contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    is_internal = models.BooleanField(_("internal note"), default=False)
    from_agent = models.BooleanField(_("from support"), default=False)
    # Sent by a machine (an auto-reply): never counts as an acknowledgement.
    is_automatic = models.BooleanField(_("automatic"), default=False)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel)
    body = models.TextField(_("body"))
    # Mail: the formatted original (sanitized HTML), and the quoted history and signature
    # cut from `body`, kept and shown folded.
    body_html = models.TextField(_("formatted body"), blank=True)
    quoted = models.TextField(_("quoted text"), blank=True)
    # A sender who is neither a user nor a contact (a colleague answering a thread by mail).
    sender = models.CharField(_("sender"), max_length=254, blank=True)
    # A reply by mail from someone who is neither a contact of the ticket's organization nor
    # staff: kept for agents, never shown to the customer, and it changes no status nor clock.
    from_outside = models.BooleanField(_("from outside the organization"), default=False)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)

    class Meta:
        ordering = ["received_at", "id"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        indexes: ClassVar = [models.Index(fields=["ticket", "received_at"])]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=~models.Q(is_internal=True, from_agent=False),
                name="message_internal_notes_are_from_agents",
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.received_at:%Y-%m-%d %H:%M}"

    @property
    def by_mail_from_staff_address(self) -> bool:
        """An internal note kept from a mail whose From names staff, which proves nothing."""
        return self.is_internal and self.author_id is None and bool(self.sender)

    @property
    def author_name(self) -> str:
        if self.author_contact is not None:
            return self.author_contact.name
        if self.author is not None:
            return self.author.get_full_name() or self.author.username
        return self.sender


ATTACHMENTS_DIR = "attachments"  # in the default storage: one folder per ticket


def attachment_path(instance: Attachment, filename: str) -> str:
    # The stored name is random; the original file name is kept in the row.
    return f"{ATTACHMENTS_DIR}/{instance.ticket_id}/{instance.key}"


class Attachment(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    key = models.CharField(max_length=64, unique=True)
    file = models.FileField(upload_to=attachment_path, max_length=255)
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=120)
    size = models.PositiveBigIntegerField(_("size"))
    # An image shown inside a mail's HTML (cid:…), listed apart from the attached files.
    content_id = models.CharField(_("content id"), max_length=255, blank=True)
    inline = models.BooleanField(_("inline"), default=False)

    class Meta:
        ordering = ["id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.filename


class TicketEvent(models.Model):
    """Append-only history of every change to a ticket: who, when, what, before and after."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        STATUS = "status", _("Status changed")
        SEVERITY = "severity", _("Severity changed")
        ASSIGNEE = "assignee", _("Assignee changed")
        MESSAGE = "message", _("Public reply")
        NOTE = "note", _("Internal note")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        CLOCK = "clock", _("SLA clock")
        ESCALATION = "escalation", _("Escalation")
        MERGED = "merged", _("Merged")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    kind = models.CharField(max_length=16, choices=Kind)
    field = models.CharField(max_length=32, blank=True)
    before = models.CharField(max_length=200, blank=True)
    after = models.CharField(max_length=200, blank=True)
    note = models.TextField(blank=True)
    # The customer may read the note (a merge note the agent chose to share); else staff only.
    note_shared = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")
        indexes: ClassVar = [
            models.Index(fields=["ticket", "created_at"]),
            # The SLA report's severity changes, latest first, without sorting them all.
            models.Index(fields=["kind", "-created_at", "-id"], name="ticketevent_kind_created"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind} {self.before} → {self.after}"

    def save(self, *args: object, **kwargs: object) -> None:
        # Append-only: a row is written once and never changed.
        if self.pk is not None and not self._state.adding:
            raise ValueError("ticket events are append-only")
        super().save(*args, **kwargs)  # type: ignore[arg-type]  # forwarded untouched
