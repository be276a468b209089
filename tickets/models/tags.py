"""Tags agents put on tickets ("printer", "firmware-4.2"): staff only, for finding tickets in
the queue and counting them in the SLA report."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from tickets.models.core import Ticket


class Tag(models.Model):
    name = models.CharField(_("tag"), max_length=32, unique=True)  # lower case (the service)
    tickets = models.ManyToManyField(Ticket, related_name="tags", blank=True)

    class Meta:
        ordering: ClassVar = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name
