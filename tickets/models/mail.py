"""Mail in and out: every received message kept raw, every Message-ID known, an outbox."""

from __future__ import annotations

from typing import ClassVar

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.channels.email.tls import is_loopback, validate_ca_bundle
from tickets.crypto import EncryptedTextField
from tickets.models.core import Message, Ticket
from tickets.models.people import Desk, Language


class InboundMail(models.Model):
    """One received message, stored raw before anything else happens to it.

    `key` is its Message-ID (or a digest of its bytes when it has none): a second delivery
    of the same message finds the row and stops there. Nothing is lost: a message Pacte
    cannot handle stays here, quarantined with the error, and staff can retry it.
    """

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        TICKETED = "ticketed", _("Opened a ticket")
        APPENDED = "appended", _("Added to a ticket")
        REVIEW = "review", _("Waiting for review")
        IGNORED = "ignored", _("Ignored")
        DISCARDED = "discarded", _("Discarded")
        QUARANTINED = "quarantined", _("Quarantined")

    class Source(models.TextChoices):
        PIPE = "pipe", _("Mail server pipe")
        LMTP = "lmtp", _("Mail server (LMTP)")
        IMAP = "imap", _("IMAP mailbox")
        WEBHOOK = "webhook", _("Webhook")

    key = models.CharField(max_length=255, unique=True)
    mail_id = models.CharField(_("Message-ID"), max_length=255, blank=True)
    source = models.CharField(_("source"), max_length=8, choices=Source)
    recipient = models.CharField(_("recipient"), max_length=254, blank=True)
    desk = models.ForeignKey(
        Desk, on_delete=models.SET_NULL, null=True, blank=True, related_name="inbound_mails"
    )
    sender = models.CharField(_("sender"), max_length=254, blank=True)
    sender_name = models.CharField(_("sender name"), max_length=200, blank=True)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    raw = models.BinaryField(_("raw message"))
    size = models.PositiveIntegerField(_("size"))
    status = models.CharField(_("status"), max_length=12, choices=Status, default=Status.RECEIVED)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)
    ticket = models.ForeignKey(
        Ticket, on_delete=models.SET_NULL, null=True, blank=True, related_name="inbound_mails"
    )
    message = models.OneToOneField(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="inbound_mail"
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("received mail")
        verbose_name_plural = _("received mails")
        indexes: ClassVar = [
            models.Index(fields=["status", "-received_at"], name="inbound_mail_status"),
            models.Index(Lower("sender"), "received_at", name="inbound_mail_sender"),
        ]

    def __str__(self) -> str:
        return f"{self.sender} {self.subject}"


class MailThreadId(models.Model):
    """A Message-ID Pacte sent or received for a ticket: replies find their ticket by it."""

    key = models.CharField(max_length=255, unique=True)
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="mail_ids")
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, null=True, blank=True, related_name="mail_ids"
    )
    outgoing = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("mail thread id")
        verbose_name_plural = _("mail thread ids")

    def __str__(self) -> str:
        return self.key


class OutboundMail(models.Model):
    """A mail to a customer, written in the transaction of the change it reports (an outbox).

    A task sends it after commit; rows are claimed (pending → sending) with a lease, so a
    worker that dies mid-way leaves the mail to the next sweep: never lost, rarely twice.
    """

    class Kind(models.TextChoices):
        OPENED = "opened", _("Ticket opened")
        REPLY = "reply", _("Reply from support")
        STATUS = "status", _("Status changed")
        RESOLVED = "resolved", _("Ticket resolved")
        MERGED = "merged", _("Ticket merged")
        TRANSCRIPT = "transcript", _("Chat transcript")
        FOLLOWER = "follower", _("Copy for a follower")
        UNKNOWN_SENDER = "unknown_sender", _("Answer to an unknown sender")
        ACCOUNT = "account", _("Account (password, invitation)")
        ANNOUNCEMENT = "announcement", _("Service level change announced")
        REPORT = "report", _("Monthly service report")

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind)
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, null=True, blank=True, related_name="outbound_mails"
    )
    message = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="outbound_mails"
    )
    inbound = models.ForeignKey(
        InboundMail, on_delete=models.SET_NULL, null=True, blank=True, related_name="answers"
    )
    from_address = models.CharField(max_length=254)
    to_address = models.CharField(max_length=254)
    to_name = models.CharField(max_length=200, blank=True)
    # Followers copied on a public update (tickets.services.followers), comma-separated.
    cc_addresses = models.TextField(blank=True)
    language = models.CharField(max_length=8, choices=Language)
    subject = models.CharField(max_length=255)
    text = models.TextField()
    html = models.TextField()
    mail_id = models.CharField(_("Message-ID"), max_length=255, unique=True)
    in_reply_to = models.CharField(max_length=255, blank=True)
    references = models.TextField(blank=True)
    state = models.CharField(max_length=8, choices=State, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sending_since = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("sent mail")
        verbose_name_plural = _("sent mails")
        indexes: ClassVar = [models.Index(fields=["state", "created_at"], name="outbound_to_send")]

    def __str__(self) -> str:
        return f"{self.to_address} {self.subject}"


class AutoAnswer(models.Model):
    """When an address last got an automatic answer: at most one a day per sender."""

    address = models.CharField(max_length=254, unique=True)  # lower case
    last_sent_at = models.DateTimeField()

    class Meta:
        verbose_name = _("automatic answer")
        verbose_name_plural = _("automatic answers")

    def __str__(self) -> str:
        return self.address


class Mailbox(models.Model):
    """An IMAP mailbox a desk reads its mail from (polled by a beat task)."""

    class Security(models.TextChoices):
        SSL = "ssl", _("TLS (port 993)")
        STARTTLS = "starttls", _("STARTTLS (port 143)")
        NONE = "none", _("None (loopback or tests only)")

    desk = models.ForeignKey(Desk, on_delete=models.CASCADE, related_name="mailboxes")
    host = models.CharField(_("host"), max_length=200)
    port = models.PositiveIntegerField(_("port"), default=993)
    security = models.CharField(_("security"), max_length=8, choices=Security, default=Security.SSL)
    username = models.CharField(_("user name"), max_length=200)
    password = EncryptedTextField(_("password"), max_length=200)
    ca_bundle = models.TextField(
        _("CA certificates"),
        blank=True,
        validators=[validate_ca_bundle],
        help_text=_(
            "PEM certificates of the CA that signed the server's certificate, trusted instead "
            "of the system's; empty: the system's certificate store. The certificate and the "
            "host name are always verified."
        ),
    )
    folder = models.CharField(_("folder"), max_length=200, default="INBOX")
    done_folder = models.CharField(
        _("folder for handled mail"),
        max_length=200,
        blank=True,
        help_text=_("Handled messages move there; left empty, they are flagged and stay."),
    )
    active = models.BooleanField(_("active"), default=True)
    last_polled_at = models.DateTimeField(_("last polled"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")

    def __str__(self) -> str:
        return f"{self.username}@{self.host}/{self.folder}"

    def clean(self) -> None:
        if self.security == self.Security.NONE and self.host and not is_loopback(self.host):
            raise ValidationError(
                {
                    "security": _(
                        "Without TLS the password would cross the network in clear: choose "
                        "TLS or STARTTLS (allowed only for a server on this machine)."
                    )
                }
            )
