"""Calendars, SLA policies and ticket clocks. Data only: arithmetic is in sla.calendar."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar
from zoneinfo import available_timezones

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
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


class EscalationLevel(models.IntegerChoices):
    """How far a clock has been escalated in its current cycle; each level fires once."""

    NONE = 0, _("none")
    WARNED = 1, _("warning sent")
    BREACHED = 2, _("breach escalated")
    HEAD = 3, _("head of support alerted")


class Clock(models.Model):
    """One SLA clock of a ticket.

    ``runs`` keeps the intervals during which the clock ran, as [start, end] ISO instants (end
    null while running); counted time is derived from them with the desk's calendar.
    ``warn_at``, ``due_at`` and ``escalate_at`` (the head-of-support threshold) are stored and
    recomputed on every change; the sweep finds crossed ones through indexes that lead with
    the state and the escalation level, so it never reads a clock it has already handled.
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
    escalate_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    # Counted time in the clock's own kind when it stopped, in whole seconds (None while it
    # runs): what reports aggregate (medians, percentiles, how late) without replaying runs
    # through calendars; an integer, so that SQL buckets it by the minute on every database.
    elapsed_seconds = models.PositiveIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=8, choices=Outcome, blank=True)
    # Met after a downgrade, but the severity before it (the latest such) would have missed:
    # the report counts the breaches that reclassifications avoided from it.
    spared_from = models.CharField(max_length=16, choices=Severity, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    stop_reason = models.CharField(max_length=16, choices=StopReason, blank=True)
    stop_message = models.ForeignKey(
        "tickets.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    escalation_level = models.PositiveSmallIntegerField(
        choices=EscalationLevel, default=EscalationLevel.NONE
    )
    # A new cycle starts when a stopped clock is reopened or the targets are recomputed:
    # every level may then fire again, once, for the new instants.
    cycle = models.PositiveIntegerField(default=1)
    escalation_percent = models.PositiveSmallIntegerField(default=150)

    class Meta:
        ordering = ["ticket", "metric"]
        verbose_name = _("clock")
        verbose_name_plural = _("clocks")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["ticket", "metric"], name="clock_unique_per_metric")
        ]
        # Equality on state and level, then a range on the instant: both SQLite and PostgreSQL
        # seek straight to the unhandled, crossed clocks (partial indexes would not be used by
        # SQLite, whose planner ignores them when the values are bound parameters).
        indexes: ClassVar = [
            models.Index(fields=["state", "escalation_level", "warn_at"], name="clock_sweep_warn"),
            models.Index(fields=["state", "escalation_level", "due_at"], name="clock_sweep_due"),
            models.Index(
                fields=["state", "escalation_level", "escalate_at"], name="clock_sweep_escalate"
            ),
            # The SLA report reads its figures from this index alone, never from the rows
            # (whose runs make them wide): a year of clocks is one pass over narrow entries.
            models.Index(
                fields=[
                    "ticket",
                    "metric",
                    "kind",
                    "elapsed_seconds",
                    "state",
                    "outcome",
                    "breached_at",
                    "spared_from",
                ],
                name="clock_report",
            ),
            # The report's missed deadlines, latest first, read in order: a page stops after
            # its rows instead of sorting every breach of the period. No bound parameter in
            # the condition, so SQLite's planner uses it too.
            models.Index(
                fields=["-due_at", "-id"],
                condition=models.Q(breached_at__isnull=False),
                name="clock_breached_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.metric} {self.state}"

    @property
    def elapsed(self) -> timedelta | None:
        return None if self.elapsed_seconds is None else timedelta(seconds=self.elapsed_seconds)

    @elapsed.setter
    def elapsed(self, value: timedelta | None) -> None:
        self.elapsed_seconds = None if value is None else int(value.total_seconds())

    @property
    def late_by(self) -> timedelta | None:
        """How far past its target a stopped clock counted, in its own kind (None while it
        runs: only the ticket's calendar can count that)."""
        elapsed = self.elapsed
        return None if elapsed is None else max(timedelta(0), elapsed - self.target)


class Notification(models.Model):
    """An alert for one staff member: listed in the app at once, mailed when it is due.

    One row per recipient, clock, cycle and level (a unique constraint): however many workers
    run the escalation, a level reaches each person once per cycle.
    """

    class Kind(models.TextChoices):
        WARNING = "warning", _("Deadline approaching")
        BREACH = "breach", _("Deadline missed")
        HEAD = "head", _("Deadline far overrun")

    class Email(models.TextChoices):
        PENDING = "pending", _("pending")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        CANCELLED = "cancelled", _("cancelled")

    recipient = models.ForeignKey(
        "tickets.User", on_delete=models.CASCADE, related_name="notifications"
    )
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="notifications")
    clock = models.ForeignKey(Clock, on_delete=models.CASCADE, related_name="notifications")
    cycle = models.PositiveIntegerField()
    kind = models.CharField(max_length=8, choices=Kind)
    due_at = models.DateTimeField(_("deadline"))
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
            )
        ]
        indexes: ClassVar = [
            models.Index(fields=["email", "deliver_after"], name="notification_to_mail"),
            models.Index(fields=["recipient", "read_at"], name="notification_unread"),
        ]

    def __str__(self) -> str:
        return f"{self.recipient_id} {self.kind} {self.ticket_id}"


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
