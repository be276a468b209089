from django.contrib import admin
from django.http import HttpRequest

from sla.models import Calendar, Clock, Closure, ExtraOpening, OpeningInterval, SlaPolicy, SlaTarget


class OpeningIntervalInline(admin.TabularInline):
    model = OpeningInterval
    extra = 0


class ClosureInline(admin.TabularInline):
    model = Closure
    extra = 0


class ExtraOpeningInline(admin.TabularInline):
    model = ExtraOpening
    extra = 0


@admin.register(Calendar)
class CalendarAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "time_zone", "holiday_country", "holiday_subdivision"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [OpeningIntervalInline, ClosureInline, ExtraOpeningInline]


class SlaTargetInline(admin.TabularInline):
    model = SlaTarget
    extra = 0


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "warning_percent", "escalation_percent"]
    inlines = [SlaTargetInline]


@admin.register(Clock)
class ClockAdmin(admin.ModelAdmin):
    """Clocks change only through the SLA services; the admin shows them."""

    list_display = ["ticket", "metric", "kind", "state", "due_at", "outcome", "breached_at"]
    list_filter = ["metric", "state", "outcome"]
    list_select_related = ["ticket"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Clock | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Clock | None = None) -> bool:
        return False
