"""Calendars and policies, edited by managers; clocks shown read-only."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext as _

from sla.models import (
    BudgetAlert,
    Calendar,
    Clock,
    Closure,
    ExtraOpening,
    MaintenanceWindow,
    OpeningInterval,
    Outage,
    SlaPolicy,
    SlaTarget,
)
from sla.outages import blocking_tickets_checked
from tickets.admin import ManagerEditable, ReadOnly
from tickets.exceptions import TicketError


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


class OutageForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Outage
        fields = ["organization", "title", "started_at", "ended_at", "tickets"]

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        organization, tickets = data.get("organization"), data.get("tickets")
        if organization is not None and tickets:
            try:
                blocking_tickets_checked(organization, tickets)
            except TicketError as error:
                self.add_error("tickets", error.message)
        return data


@admin.register(Outage)
class OutageAdmin(ManagerEditable, admin.ModelAdmin):  # type: ignore[type-arg]
    form = OutageForm
    list_display = ["title", "organization", "started_at", "ended_at"]
    list_filter = ["organization"]
    list_select_related = ["organization"]
    raw_id_fields = ["tickets"]  # a hundred thousand tickets: no select of them all


@admin.register(MaintenanceWindow)
class MaintenanceWindowAdmin(ManagerEditable, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["title", "organization", "starts_at", "ends_at", "announced_at"]
    list_filter = ["organization"]
    list_select_related = ["organization"]


@admin.register(BudgetAlert)
class BudgetAlertAdmin(ReadOnly, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["organization", "year", "level", "left", "created_at", "emailed_at"]
    list_filter = ["level", "year"]
    list_select_related = ["organization"]
