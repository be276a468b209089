"""Calendars and policies, edited by managers; clocks shown read-only."""

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext as _

from sla.models import Calendar, Clock, Closure, ExtraOpening, OpeningInterval, SlaPolicy, SlaTarget
from tickets.admin import ManagerEditable, ReadOnly


class NoOverlapFormSet(BaseInlineFormSet):  # type: ignore[type-arg]  # any interval model
    """Intervals of one day (or weekday) must not overlap: the calendar could not be used."""

    day_field = "weekday"

    def clean(self) -> None:
        super().clean()
        by_day: dict[object, list[tuple[int, int]]] = {}
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE") or data.get("start_minute") is None:
                continue
            if data.get("end_minute") is None or data["end_minute"] <= data["start_minute"]:
                raise ValidationError(_("Each interval must close after it opens."))
            by_day.setdefault(data[self.day_field], []).append(
                (data["start_minute"], data["end_minute"])
            )
        for intervals in by_day.values():
            intervals.sort()
            for (_start, end), (next_start, _end) in zip(intervals, intervals[1:], strict=False):
                if next_start < end:
                    raise ValidationError(_("Opening intervals of one day must not overlap."))


class ExtraOpeningFormSet(NoOverlapFormSet):
    day_field = "day"


class OpeningIntervalInline(ManagerEditable, admin.TabularInline):  # type: ignore[type-arg]
    model = OpeningInterval
    formset = NoOverlapFormSet
    extra = 0


class ClosureInline(ManagerEditable, admin.TabularInline):  # type: ignore[type-arg]
    model = Closure
    extra = 0


class ExtraOpeningInline(ManagerEditable, admin.TabularInline):  # type: ignore[type-arg]
    model = ExtraOpening
    formset = ExtraOpeningFormSet
    extra = 0


@admin.register(Calendar)
class CalendarAdmin(ManagerEditable, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "slug", "time_zone", "holiday_country", "holiday_subdivision"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [OpeningIntervalInline, ClosureInline, ExtraOpeningInline]


class SlaTargetInline(ManagerEditable, admin.TabularInline):  # type: ignore[type-arg]
    model = SlaTarget
    extra = 0


@admin.register(SlaPolicy)
class SlaPolicyAdmin(ManagerEditable, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "slug", "warning_percent", "escalation_percent"]
    inlines = [SlaTargetInline]


@admin.register(Clock)
class ClockAdmin(ReadOnly, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["ticket", "metric", "kind", "state", "due_at", "outcome", "breached_at"]
    list_filter = ["metric", "state", "outcome"]
    list_select_related = ["ticket"]
