"""People copied on a ticket: contacts of its organization and support staff, who get its
public updates (tickets.services.followers)."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.models.core import Ticket
from tickets.models.people import Contact


class Follower(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="followers")
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, null=True, blank=True, related_name="following"
    )
    user = models.ForeignKey(  # support staff
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="following",
    )
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("follower")
        verbose_name_plural = _("followers")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(contact__isnull=False, user__isnull=True)
                | Q(contact__isnull=True, user__isnull=False),
                name="follower_contact_or_staff",
            ),
            models.UniqueConstraint(fields=["ticket", "contact"], name="follower_contact_once"),
            models.UniqueConstraint(fields=["ticket", "user"], name="follower_staff_once"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.contact_id or self.user_id}"

    @property
    def name(self) -> str:
        if self.contact is not None:
            return self.contact.name
        assert self.user is not None
        return self.user.get_full_name() or self.user.username
