"""The availability side of the SLA: outages, maintenance windows and error-budget alerts."""

from __future__ import annotations

from typing import ClassVar

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.models import Ticket


class Outage(models.Model):
    """A time the organization's service was down, and the blocking tickets that reported it."""

    organization = models.ForeignKey(
        "tickets.Organization",
        on_delete=models.CASCADE,
        related_name="outages",
        verbose_name=_("organization"),
    )
    title = models.CharField(_("title"), max_length=200)
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(
        _("ended at"), null=True, blank=True, help_text=_("Empty while the outage goes on.")
    )
    tickets = models.ManyToManyField(
        Ticket, related_name="outages", blank=True, verbose_name=_("blocking tickets")
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("outage")
        verbose_name_plural = _("outages")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(ended_at__isnull=True)
                | models.Q(ended_at__gt=models.F("started_at")),
                name="outage_ends_after_start",
            )
        ]
        indexes: ClassVar = [models.Index(fields=["organization", "started_at"])]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if self.ended_at is not None and self.started_at and self.ended_at <= self.started_at:
            raise ValidationError({"ended_at": _("An outage ends after it starts.")})

    @property
    def is_ongoing(self) -> bool:
        return self.ended_at is None


class MaintenanceWindow(models.Model):
    """Planned work on the organization's service (program or operational updates): excluded
    from downtime when announced before it starts."""

    organization = models.ForeignKey(
        "tickets.Organization",
        on_delete=models.CASCADE,
        related_name="maintenance_windows",
        verbose_name=_("organization"),
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    announced_at = models.DateTimeField(_("announced at"), default=timezone.now)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))

    class Meta:
        ordering = ["-starts_at"]
        verbose_name = _("maintenance window")
        verbose_name_plural = _("maintenance windows")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="maintenance_ends_after_start",
            )
        ]
        indexes: ClassVar = [models.Index(fields=["organization", "starts_at"])]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("A maintenance window ends after it starts.")})

    @property
    def announced_in_advance(self) -> bool:
        return self.announced_at < self.starts_at


class BudgetAlert(models.Model):
    """Managers were told, once a year per level, that an organization's error budget is low
    or spent (a unique row: however often the watch runs, one alert, one mail)."""

    class Level(models.TextChoices):
        LOW = "low", _("Error budget low")
        SPENT = "spent", _("Error budget spent")

    organization = models.ForeignKey(
        "tickets.Organization", on_delete=models.CASCADE, related_name="budget_alerts"
    )
    year = models.PositiveSmallIntegerField()
    level = models.CharField(max_length=8, choices=Level)
    left = models.DurationField(help_text=_("Downtime still allowed when the alert was raised."))
    created_at = models.DateTimeField(default=timezone.now)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("error budget alert")
        verbose_name_plural = _("error budget alerts")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["organization", "year", "level"], name="budget_alert_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.year} {self.level}"
