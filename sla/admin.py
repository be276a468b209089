"""Calendars and policies, edited by managers; clocks shown read-only."""

from django.contrib import admin

from sla.models import Calendar, Clock, Closure, ExtraOpening, OpeningInterval, SlaPolicy, SlaTarget
from tickets.admin import ManagerEditable, ReadOnly


class OpeningIntervalInline(ManagerEditable, admin.TabularInline):  # type: ignore[type-arg]
    model = OpeningInterval
    extra = 0


class ClosureInline(ManagerEditable, admin.TabularInline):  # type: ignore[type-arg]
    model = Closure
    extra = 0


class ExtraOpeningInline(ManagerEditable, admin.TabularInline):  # type: ignore[type-arg]
    model = ExtraOpening
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
