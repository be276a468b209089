"""When desks are open: calendars with their weekly hours, closures and extra openings."""

from __future__ import annotations

import secrets
from typing import ClassVar
from zoneinfo import available_timezones

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from sla.clocks.values import public_holidays


def validate_time_zone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value})


def calendar_version_new() -> int:
    return secrets.randbits(62)


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
    # A new random value at each change of its rules, hours, closures or extra openings, in the
    # change's transaction: a process keeps the calendar's snapshot while its version is the
    # same (sla.clocks.snapshots). Random, so that a rolled-back change's is never seen again.
    version = models.BigIntegerField(default=calendar_version_new, editable=False)

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


class CalendarChange(models.Model):
    """One edit of a calendar's rules (hours, a closure, an extra opening, its holidays or time
    zone), written in the edit's transaction. The running and paused clocks on the calendar are
    counted again after commit, in one batch that applies every pending change and marks them
    applied (`sla.clocks.recount`); a batch lost with its worker is picked up by the sweep."""

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="changes")
    # What changed, language-neutral: {"what": "closure", "action": "added", "label": …,
    # "start": "2026-12-24", "end": "2026-12-31", "by": "Maya Schulz"} (see sla.clocks.recount).
    detail = models.JSONField(_("change"))
    actor = models.ForeignKey(
        "tickets.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("changed"))
    applied_at = models.DateTimeField(_("clocks recounted"), null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        indexes: ClassVar = [models.Index(fields=["applied_at", "calendar"])]
        verbose_name = _("calendar change")
        verbose_name_plural = _("calendar changes")

    def __str__(self) -> str:
        return f"{self.calendar} {self.detail.get('what')} {self.detail.get('action')}"
