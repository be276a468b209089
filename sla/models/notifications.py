"""Alerts for staff members, written by the escalation and mailed by sla.notifications.delivery;
and, listed beside them, the messages written on the tickets they follow
(tickets.services.followers, which mails those itself)."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sla.models.clocks import Clock
from tickets.models import Ticket


class Notification(models.Model):
    """An alert for one staff member: listed in the app at once, mailed when it is due.

    One row per recipient, clock, cycle and level (a unique constraint): however many workers
    run the escalation, a level reaches each person once per cycle. A message on a ticket
    the person follows has no clock: its row names the message, and is never mailed here.
    """

    class Kind(models.TextChoices):
        WARNING = "warning", _("Deadline approaching")
        BREACH = "breach", _("Deadline missed")
        HEAD = "head", _("Deadline far overrun")
        MESSAGE = "message", _("New message")

    class Email(models.TextChoices):
        PENDING = "pending", _("pending")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        CANCELLED = "cancelled", _("cancelled")
        NONE = "none", _("not mailed")  # a message: its follower's copy is mailed already

    recipient = models.ForeignKey(
        "tickets.User", on_delete=models.CASCADE, related_name="notifications"
    )
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="notifications")
    clock = models.ForeignKey(
        Clock, on_delete=models.CASCADE, related_name="notifications", null=True, blank=True
    )
    cycle = models.PositiveIntegerField(null=True, blank=True)
    kind = models.CharField(max_length=8, choices=Kind)
    due_at = models.DateTimeField(_("deadline"), null=True, blank=True)
    message = models.ForeignKey(
        "tickets.Message", on_delete=models.CASCADE, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    email = models.CharField(max_length=10, choices=Email, default=Email.PENDING)
    deliver_after = models.DateTimeField()
    sending_since = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["recipient", "clock", "cycle", "kind"], name="notification_once_per_level"
            ),
            # An alert names its clock, cycle and deadline; a message notification its message,
            # and is never mailed by the alerts' delivery (its copy is mailed by the followers').
            models.CheckConstraint(
                condition=(
                    models.Q(
                        kind="message", message__isnull=False, clock__isnull=True, email="none"
                    )
                    | (
                        ~models.Q(kind="message")
                        & models.Q(
                            message__isnull=True,
                            clock__isnull=False,
                            cycle__isnull=False,
                            due_at__isnull=False,
                        )
                    )
                ),
                name="notification_alert_or_message",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["email", "deliver_after"], name="notification_to_mail"),
            models.Index(fields=["recipient", "read_at"], name="notification_unread"),
        ]

    def __str__(self) -> str:
        return f"{self.recipient_id} {self.kind} {self.ticket_id}"
