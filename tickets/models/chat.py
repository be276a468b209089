"""Live chat: a conversation is a ticket (channel chat) whose messages are the transcript."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.models.core import Message, Ticket


class ChatSession(models.Model):
    """The live part of a chat ticket: waiting for an agent, answered live, or ended (either
    side may then carry on by email on the same ticket)."""

    class State(models.TextChoices):
        WAITING = "waiting", _("Waiting for an agent")
        ACTIVE = "active", _("In conversation")
        ENDED = "ended", _("Ended")

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="chat")
    state = models.CharField(_("state"), max_length=8, choices=State, default=State.WAITING)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("agent"),
    )
    started_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("chat")
        verbose_name_plural = _("chats")
        indexes: ClassVar = [models.Index(fields=["state", "started_at"])]

    def __str__(self) -> str:
        return f"chat {self.ticket_id} {self.state}"

    @property
    def is_ended(self) -> bool:
        return self.state == self.State.ENDED


class ChatMessageKey(models.Model):
    """The client's own id of a chat message: a message sent again after a reconnect is
    recognized and stored once."""

    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="chat_key")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=64)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["ticket", "key"], name="chat_message_key_unique")
        ]

    def __str__(self) -> str:
        return self.key
