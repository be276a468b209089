"""Calendars and policies, edited by managers; clocks shown read-only; outages written through
their services (sla.availability.outages), as everywhere else."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from sla.availability import outages
from sla.clocks.recount import calendar_edited_by
from sla.exceptions import SlaError
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
from tickets.admin import ManagerEditable, ReadOnly


class NoOverlapFormSet(BaseInlineFormSet):
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


class OpeningIntervalInline(ManagerEditable, admin.TabularInline):
    model = OpeningInterval
    formset = NoOverlapFormSet
    extra = 0


class ClosureInline(ManagerEditable, admin.TabularInline):
    model = Closure
    extra = 0


class ExtraOpeningInline(ManagerEditable, admin.TabularInline):
    model = ExtraOpening
    formset = ExtraOpeningFormSet
    extra = 0


@admin.register(Calendar)
class CalendarAdmin(ManagerEditable, admin.ModelAdmin):
    list_display = ["name", "slug", "time_zone", "holiday_country", "holiday_subdivision"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [OpeningIntervalInline, ClosureInline, ExtraOpeningInline]

    # An edit moves the deadlines of the clocks on the calendar: their history names who.
    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with calendar_edited_by(request.user):  # type: ignore[arg-type]  # staff pages only
            return super().changeform_view(request, *args, **kwargs)


class SlaTargetInline(ManagerEditable, admin.TabularInline):
    model = SlaTarget
    extra = 0


@admin.register(SlaPolicy)
class SlaPolicyAdmin(ManagerEditable, admin.ModelAdmin):
    list_display = ["name", "slug", "warning_percent", "escalation_percent"]
    inlines = [SlaTargetInline]


@admin.register(Clock)
class ClockAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["ticket", "metric", "kind", "state", "due_at", "outcome", "breached_at"]
    list_filter = ["metric", "state", "outcome"]
    list_select_related = ["ticket"]


class OutageForm(forms.ModelForm):
    class Meta:
        model = Outage
        fields = ["organization", "title", "started_at", "ended_at", "tickets"]

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        organization, tickets = data.get("organization"), data.get("tickets")
        if organization is not None and tickets:
            try:
                outages.blocking_tickets_checked(organization, tickets)
            except SlaError as error:
                self.add_error("tickets", error.message)
        return data


@admin.register(Outage)
class OutageAdmin(ManagerEditable, admin.ModelAdmin):
    form = OutageForm
    list_display = ["title", "organization", "started_at", "ended_at"]
    list_filter = ["organization"]
    list_select_related = ["organization"]
    raw_id_fields = ["tickets"]  # a hundred thousand tickets: no select of them all

    def save_model(self, request: HttpRequest, obj: Outage, form: OutageForm, change: bool) -> None:
        """Through the outage services: their rules and everything they do apply here too.
        (The form ran the same checks first, to show what is wrong on the form.)"""
        tickets = form.cleaned_data.get("tickets") or []
        if change:
            outages.outage_update(
                outage=obj,
                organization=obj.organization,
                title=obj.title,
                started_at=obj.started_at,
                ended_at=obj.ended_at,
                tickets=tickets,
            )
            return
        saved = outages.outage_record(
            organization=obj.organization,
            title=obj.title,
            started_at=obj.started_at,
            ended_at=obj.ended_at,
            tickets=tickets,
        )
        # The admin goes on with its own instance (the log entry, the redirect to the row).
        obj.pk = saved.pk
        obj.refresh_from_db()
        obj._state.adding = False

    def save_related(
        self,
        request: HttpRequest,
        form: OutageForm,
        formsets: list[BaseInlineFormSet],
        change: bool,
    ) -> None:
        # The service linked the tickets already: the form does not write them a second time.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request: HttpRequest, obj: Outage) -> None:
        outages.outage_delete(outage=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Outage]) -> None:
        """The list's "delete selected" action: each outage through the service."""
        for outage in queryset:
            outages.outage_delete(outage=outage)


@admin.register(MaintenanceWindow)
class MaintenanceWindowAdmin(ManagerEditable, admin.ModelAdmin):
    list_display = ["title", "organization", "starts_at", "ends_at", "announced_at"]
    list_filter = ["organization"]
    list_select_related = ["organization"]


@admin.register(BudgetAlert)
class BudgetAlertAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["organization", "year", "level", "left", "created_at", "emailed_at"]
    list_filter = ["level", "year"]
    list_select_related = ["organization"]
