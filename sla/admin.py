"""Calendars and policies, edited by managers; clocks shown read-only; outages written through
their services (sla.availability.outages), as everywhere else."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from sla.availability import outages
from sla.clocks.recount import calendar_edited_by
from sla.exceptions import SlaError
from sla.models import (
    BudgetAlert,
    Calendar,
    Clock,
    Closure,
    Contract,
    ExtraOpening,
    MaintenanceWindow,
    OpeningInterval,
    Outage,
    PauseReason,
    ServiceCredit,
    SlaPolicy,
    SlaPolicyVersion,
    SlaTarget,
)
from sla.policies import policy_version_announce_later, version_editable, version_in_force
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


class WeeklyHoursFormSet(NoOverlapFormSet):
    """A calendar keeps at least one weekly interval: never open, no deadline can be counted
    (every ticket on it would be refused, every clock on it stuck)."""

    def clean(self) -> None:
        super().clean()
        kept = [
            form
            for form in self.forms
            if getattr(form, "cleaned_data", None)
            and not form.cleaned_data.get("DELETE")
            and form.cleaned_data.get("start_minute") is not None
        ]
        if not kept:
            raise ValidationError(_("A calendar needs weekly opening hours."))


class OpeningIntervalInline(ManagerEditable, admin.TabularInline):
    model = OpeningInterval
    formset = WeeklyHoursFormSet
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

    def _locked(self, request: HttpRequest, obj: SlaPolicyVersion | None) -> bool:
        return obj is not None and not version_editable(obj, timezone.now())

    def has_add_permission(self, request: HttpRequest, *args: object) -> bool:
        obj = args[0] if args and isinstance(args[0], SlaPolicyVersion) else None
        return not self._locked(request, obj) and super().has_add_permission(request, *args)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not self._locked(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not self._locked(request, obj) and super().has_delete_permission(request, obj)


class SlaPolicyVersionInline(ManagerEditable, admin.TabularInline):
    """A policy's versions, read here; each is added and changed on its own page."""

    model = SlaPolicyVersion
    extra = 0
    fields = ["effective_at", "note", "announced_at"]
    readonly_fields = ["effective_at", "note", "announced_at"]
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request: HttpRequest, *args: object) -> bool:
        return False


class PauseReasonInline(ManagerEditable, admin.TabularInline):
    """Why a ticket may be on hold under this policy, and which clocks that pauses."""

    model = PauseReason
    extra = 0
    prepopulated_fields = {"slug": ["name"]}


@admin.register(SlaPolicy)
class SlaPolicyAdmin(ManagerEditable, admin.ModelAdmin):
    list_display = ["name", "slug", "warning_percent", "escalation_percent"]
    readonly_fields = ["new_version"]
    inlines = [SlaPolicyVersionInline, PauseReasonInline]

    @admin.display(description=_l("targets"))
    def new_version(self, obj: SlaPolicy) -> str:
        if obj.pk is None:
            return "—"
        return format_html(
            '<a href="{}?policy={}">{}</a>',
            reverse("admin:sla_slapolicyversion_add"),
            obj.pk,
            _("Change the targets from a date: add a version, copied from the one in force"),
        )


def _policy_asked(request: HttpRequest) -> SlaPolicy | None:
    """The policy a new version is added to, from the link on the policy's page."""
    asked = request.GET.get("policy", "")
    return SlaPolicy.objects.filter(pk=int(asked)).first() if asked.isdigit() else None


class SlaPolicyVersionForm(forms.ModelForm):
    class Meta:
        model = SlaPolicyVersion
        fields = ["policy", "effective_at", "note"]

    def clean_effective_at(self) -> object:
        effective_at = self.cleaned_data["effective_at"]
        policy = self.cleaned_data.get("policy") or getattr(self.instance, "policy", None)
        first = policy is None or not policy.versions.exclude(pk=self.instance.pk).exists()
        if effective_at is not None and effective_at <= timezone.now() and not first:
            raise ValidationError(
                _("A new version takes effect in the future: tickets already received keep "
                  "the targets they were promised.")
            )  # fmt: skip
        return effective_at


@admin.register(SlaPolicyVersion)
class SlaPolicyVersionAdmin(ManagerEditable, admin.ModelAdmin):
    """A version in force is read-only; a new one starts as a copy of the one in force (add
    it from the policy: ?policy=<id>) and is announced to the organizations on the policy."""

    form = SlaPolicyVersionForm
    list_display = ["policy", "effective_at", "announced_at"]
    list_filter = ["policy"]
    inlines = [SlaTargetInline]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        editable = obj is None or version_editable(obj, timezone.now())
        return editable and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        editable = obj is None or version_editable(obj, timezone.now())
        return editable and super().has_delete_permission(request, obj)

    def get_formset_kwargs(
        self, request: HttpRequest, obj: Any, inline: Any, prefix: str
    ) -> dict[str, Any]:
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        policy = _policy_asked(request)
        current = version_in_force(policy, timezone.now()) if policy else None
        if request.method == "GET" and (obj is None or obj.pk is None) and current is not None:
            kwargs["initial"] = [
                {"severity": t.severity, "metric": t.metric, "amount": t.amount, "kind": t.kind}
                for t in current.targets.all()
            ]
        return kwargs

    def get_formsets_with_inlines(self, request: HttpRequest, obj: Any = None) -> Any:
        for formset, inline in super().get_formsets_with_inlines(request, obj):
            policy = _policy_asked(request)
            current = version_in_force(policy, timezone.now()) if policy else None
            if obj is None and request.method == "GET" and current is not None:
                formset.extra = current.targets.count()
            yield formset, inline

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        version = form.instance
        if change and any(formset.has_changed() for formset in formsets):
            # Its targets changed after it was announced: the organizations are told again.
            SlaPolicyVersion.objects.filter(pk=version.pk).update(announced_at=None)
        transaction.on_commit(lambda: policy_version_announce_later(version.pk))


class ServiceCreditInline(ManagerEditable, admin.TabularInline):
    """The contract's credit table: what a month owes, as a share of the monthly fee."""

    model = ServiceCredit
    extra = 0


@admin.register(Contract)
class ContractAdmin(ManagerEditable, admin.ModelAdmin):
    """An organization under contract follows these dates (sla.contracts); one with no
    contract keeps its "under contract" flag as set on the organization."""

    list_display = ["organization", "reference", "starts_on", "ends_on", "policy", "calendar"]
    list_filter = ["policy"]
    list_select_related = ["organization", "policy", "calendar"]
    search_fields = ["organization__name", "reference"]
    readonly_fields = ["reminded_at"]
    inlines = [ServiceCreditInline]


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
