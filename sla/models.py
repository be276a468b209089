"""Calendars, SLA policies and ticket clocks. Data only: arithmetic is in sla.calendar."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar
from zoneinfo import available_timezones

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from sla.calendar import ClockKind, public_holidays
from tickets.models import Severity, Ticket


def validate_time_zone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value})


class Calendar(models.Model):
    """When a desk is open: weekly hours in a time zone, public holidays, closures."""

    slug = models.SlugField(_("slug"), unique=True)
    name = models.CharField(_("name"), max_length=100)
    time_zone = models.CharField(_("time zone"), max_length=64, validators=[validate_time_zone])
    holiday_country = models.CharField(
        _("holiday country"), max_length=8, blank=True, help_text=_("ISO code, e.g. DE, FR, US.")
    )
    holiday_subdivision = models.CharField(
        _("holiday subdivision"), max_length=16, blank=True, help_text=_("e.g. NW")
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("calendar")
        verbose_name_plural = _("calendars")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.holiday_subdivision and not self.holiday_country:
            raise ValidationError({"holiday_country": _("A subdivision needs its country.")})
        if self.holiday_country:
            try:
                public_holidays(self.holiday_country, self.holiday_subdivision, 2026)
            except (NotImplementedError, ValueError, KeyError):
                raise ValidationError(
                    {
                        "holiday_subdivision" if self.holiday_subdivision else "holiday_country": _(
                            "The holidays package does not know %(country)s %(subdivision)s."
                        )
                        % {"country": self.holiday_country, "subdivision": self.holiday_subdivision}
                    }
                ) from None


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class OpeningInterval(models.Model):
    """Weekly open hours, local wall time; several per day allowed (a lunch break)."""

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="intervals")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday)
    start_minute = models.PositiveSmallIntegerField(
        _("opens (minutes after midnight)"), validators=[MaxValueValidator(1439)]
    )
    end_minute = models.PositiveSmallIntegerField(
        _("closes (minutes after midnight)"),
        validators=[MinValueValidator(1), MaxValueValidator(1440)],
    )

    class Meta:
        ordering = ["weekday", "start_minute"]
        verbose_name = _("opening interval")
        verbose_name_plural = _("opening intervals")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(end_minute__gt=models.F("start_minute")),
                name="opening_interval_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        start, end = divmod(self.start_minute, 60), divmod(self.end_minute, 60)
        return (
            f"{self.get_weekday_display()} {start[0]:02d}:{start[1]:02d}–{end[0]:02d}:{end[1]:02d}"
        )


class Closure(models.Model):
    """Company closure: inclusive local dates."""

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="closures")
    start = models.DateField(_("first day"))
    end = models.DateField(_("last day"))
    label = models.CharField(_("label"), max_length=100)

    class Meta:
        ordering = ["start"]
        verbose_name = _("closure")
        verbose_name_plural = _("closures")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(end__gte=models.F("start")), name="closure_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.start} – {self.end})"


class ExtraOpening(models.Model):
    """A one-off opening, e.g. a Saturday during a migration."""

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="extra_openings")
    day = models.DateField(_("day"))
    start_minute = models.PositiveSmallIntegerField(
        _("opens (minutes after midnight)"), validators=[MaxValueValidator(1439)]
    )
    end_minute = models.PositiveSmallIntegerField(
        _("closes (minutes after midnight)"),
        validators=[MinValueValidator(1), MaxValueValidator(1440)],
    )
    label = models.CharField(_("label"), max_length=100, blank=True)

    class Meta:
        ordering = ["day", "start_minute"]
        verbose_name = _("extra opening")
        verbose_name_plural = _("extra openings")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(end_minute__gt=models.F("start_minute")),
                name="extra_opening_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.label}"


class SlaPolicy(models.Model):
    slug = models.SlugField(_("slug"), unique=True)
    name = models.CharField(_("name"), max_length=100)
    warning_percent = models.PositiveSmallIntegerField(
        # xgettext:no-python-format
        _("warning threshold (% of target)"),
        default=75,
        validators=[MinValueValidator(1), MaxValueValidator(99)],
    )
    escalation_percent = models.PositiveSmallIntegerField(
        # xgettext:no-python-format
        _("head-of-support threshold (% of target)"),
        default=150,
        validators=[MinValueValidator(101)],
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")

    def __str__(self) -> str:
        return self.name


class Metric(models.TextChoices):
    ACKNOWLEDGEMENT = "acknowledgement", _("Acknowledgement")
    CORRECTION = "correction", _("Correction")


class SlaTarget(models.Model):
    """One promise of a policy: for a severity and metric, an amount of a clock kind.

    The amount is in hours for wall and business_hours clocks, in days for business_days.
    """

    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="targets")
    severity = models.CharField(_("severity"), max_length=16, choices=Severity)
    metric = models.CharField(_("metric"), max_length=16, choices=Metric)
    amount = models.PositiveIntegerField(_("amount"), validators=[MinValueValidator(1)])
    kind = models.CharField(_("clock kind"), max_length=16, choices=[(k, k) for k in ClockKind])

    class Meta:
        ordering = ["policy", "severity", "metric"]
        verbose_name = _("SLA target")
        verbose_name_plural = _("SLA targets")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["policy", "severity", "metric"], name="sla_target_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.policy} {self.severity} {self.metric}: {self.amount} {self.kind}"

    @property
    def duration(self) -> timedelta:
        if self.kind == ClockKind.BUSINESS_DAYS:
            return timedelta(days=self.amount)
        return timedelta(hours=self.amount)


class StopReason(models.TextChoices):
    """What stopped a clock: the qualifying event, recorded on the clock."""

    PUBLIC_REPLY = "public_reply", _("public reply from support")
    PHONE_CALL = "phone_call", _("phone call logged")
    ACKNOWLEDGE = "acknowledge", _("explicit acknowledgement")
    RESOLVED = "resolved", _("resolved")
    CLOSED = "closed", _("closed")


class Clock(models.Model):
    """One SLA clock of a ticket.

    ``runs`` keeps the intervals during which the clock ran, as [start, end] ISO instants (end
    null while running); counted time is derived from them with the desk's calendar.
    ``due_at`` and ``warn_at`` are stored (indexed) for the sweep and recomputed on every change.
    """

    class State(models.TextChoices):
        RUNNING = "running", _("Running")
        PAUSED = "paused", _("Paused")
        STOPPED = "stopped", _("Stopped")

    class Outcome(models.TextChoices):
        MET = "met", _("Met")
        BREACHED = "breached", _("Breached")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="clocks")
    metric = models.CharField(max_length=16, choices=Metric)
    kind = models.CharField(max_length=16, choices=[(k, k) for k in ClockKind])
    target = models.DurationField()
    warning_percent = models.PositiveSmallIntegerField(default=75)
    state = models.CharField(max_length=8, choices=State, default=State.RUNNING)
    started_at = models.DateTimeField()
    runs = models.JSONField(default=list)
    due_at = models.DateTimeField(null=True, blank=True)
    warn_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=8, choices=Outcome, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    stop_reason = models.CharField(max_length=16, choices=StopReason, blank=True)
    stop_message = models.ForeignKey(
        "tickets.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    escalation_level = models.PositiveSmallIntegerField(default=0)
    cycle = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["ticket", "metric"]
        verbose_name = _("clock")
        verbose_name_plural = _("clocks")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["ticket", "metric"], name="clock_unique_per_metric")
        ]
        indexes: ClassVar = [
            models.Index(
                fields=["due_at"], name="clock_running_due", condition=models.Q(state="running")
            ),
            models.Index(
                fields=["warn_at"], name="clock_running_warn", condition=models.Q(state="running")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.metric} {self.state}"
