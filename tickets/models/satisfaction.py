"""What customers say of the help they got: one rating per ticket, given after it is resolved
(one click from the resolution mail or on the ticket's page), which they may change."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.models.core import Ticket
from tickets.models.people import Desk


class SatisfactionRating(models.Model):
    class Score(models.TextChoices):
        GOOD = "good", _("Good")
        BAD = "bad", _("Bad")

    ticket = models.OneToOneField(
        Ticket, on_delete=models.CASCADE, primary_key=True, related_name="satisfaction"
    )
    score = models.CharField(_("rating"), max_length=8, choices=Score)
    comment = models.TextField(_("comment"), blank=True, max_length=2000)
    # Whom and which desk the rating is about: the ticket's at the time (an agent reassigned
    # later keeps the ratings of the help they gave).
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("agent"),
    )
    desk = models.ForeignKey(Desk, on_delete=models.CASCADE, related_name="+")
    rated_at = models.DateTimeField(_("rated at"), default=timezone.now)

    class Meta:
        verbose_name = _("satisfaction rating")
        verbose_name_plural = _("satisfaction ratings")
        indexes: ClassVar = [models.Index(fields=["rated_at"])]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.score}"
