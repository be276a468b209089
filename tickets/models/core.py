"""Tickets, their messages and files, and their history; the severities, statuses and
channels they are classified by. Data only: every write goes through services."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.models.people import Contact, Desk, Organization

# Migration 0010 names the organization's validators by this module's path.
from tickets.models.people import validate_domains as validate_domains
from tickets.models.people import validate_origins as validate_origins


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
    ON_HOLD = "on_hold", _("On hold")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


OPEN_STATUSES = (
    Status.NEW,
    Status.ACKNOWLEDGED,
    Status.IN_PROGRESS,
    Status.WAITING_ON_CUSTOMER,
    Status.ON_HOLD,
)
# The queue's stand-in for "no deadline": after every real one.
QUEUE_NO_DEADLINE = datetime(9999, 12, 31, tzinfo=UTC)


class SystemNote(models.TextChoices):
    """Notes Pacte writes in the history; stored in English, shown in the reader's language."""

    FIRST_PUBLIC_REPLY = "first public reply", _("first public reply")
    PHONE_CALL = "phone call logged", _("phone call logged")
    CUSTOMER_ANSWERED = "customer answered", _("customer answered")
    REOPENED_BY_REPLY = "reopened by the customer's reply", _("reopened by the customer's reply")
    REOPENED_BY_CUSTOMER = "reopened by the customer", _("reopened by the customer")
    CLOSED_AFTER_RESOLUTION = (
        "resolved and not reopened in time",
        _("resolved and not reopened in time"),
    )
    ACKNOWLEDGED = "acknowledged", _("acknowledged")
    MERGED = "merged into another ticket", _("merged into another ticket")


class Channel(models.TextChoices):
    WEB = "web", _("Web")
    EMAIL = "email", _("Email")
    CHAT = "chat", _("Chat")
    PHONE = "phone", _("Phone")
    API = "api", _("API")


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
    # The support hours of the organization's contract when they override the desk's, set
    # when the ticket is received; empty: the desk's calendar.
    calendar = models.ForeignKey(
        "sla.Calendar", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Why it is on hold (status on_hold): a reason of its policy, naming the clocks it pauses.
    pause_reason = models.ForeignKey(
        "sla.PauseReason", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("pause reason"),
    )  # fmt: skip
    # The SLA policy in force when it was received (its contract's, else its organization's);
    # empty on tickets from before: the organization's.
    sla_policy = models.ForeignKey(
        "sla.SlaPolicy", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
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
    # The agent queue's order, kept by the database itself whatever writes the row (a service,
    # a bulk update): open first, nearest deadline (none last), most severe, oldest. An index
    # gives the queue's first page in that order without sorting every open ticket.
    queue_open = models.GeneratedField(  # 1 or 0, not a boolean: SQLite seeks "= 1" in an index
        expression=models.Case(
            models.When(status__in=OPEN_STATUSES, then=models.Value(1)), default=models.Value(0)
        ),
        output_field=models.SmallIntegerField(),
        db_persist=True,
    )
    queue_due = models.GeneratedField(
        expression=Coalesce("sla_due_at", models.Value(QUEUE_NO_DEADLINE)),
        output_field=models.DateTimeField(),
        db_persist=True,
    )
    severity_rank = models.GeneratedField(
        expression=models.Case(
            models.When(severity=Severity.BLOCKING, then=models.Value(0)),
            models.When(severity=Severity.MAJOR, then=models.Value(1)),
            default=models.Value(2),
        ),
        output_field=models.SmallIntegerField(),
        db_persist=True,
    )
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
            # The agent queue's first page, in order: of one desk, of every desk.
            models.Index(
                fields=["desk", "queue_open", "queue_due", "severity_rank", "received_at"],
                name="ticket_queue_desk",
            ),
            models.Index(
                fields=["queue_open", "queue_due", "severity_rank", "received_at"],
                name="ticket_queue_all",
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
    def clock_calendar_id(self) -> int:
        """The calendar its clocks count in: its contract's, else its desk's."""
        return self.calendar_id or self.desk.calendar_id

    @property
    def policy_id_in_force(self) -> int | None:
        """The SLA policy its promises come from: its contract's, else its organization's."""
        return self.sla_policy_id or self.organization.sla_policy_id

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
        TRIAGE = "triage", _("Severity triage")  # where the severity came from, confirmations
        TAGS = "tags", _("Tags changed")  # staff only: before the removed, after the added

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
