"""Managers' SLA report: a period and filters, figures from aggregate queries (sla/reports/),
a chart of the months, the breaches and the tickets at risk; the same figures as CSV."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from config.formats import named
from sla.availability.selectors import (
    availability_overview,
    organization_zone,
)
from sla.credits import credit_for_month
from sla.models import Metric
from sla.reports import figures, listings, rollups
from sla.reports.export import report_rows
from sla.reports.monthly import monthly_report_figures
from tickets import access
from tickets.accounts.audit import audit_record
from tickets.forms import AgentChoiceField
from tickets.middleware import writes_on_get
from tickets.models import AuditEvent, Desk, Organization, SatisfactionRating, Severity, Tag, User
from tickets.services.satisfaction import ratings_of_period, satisfaction_rows
from tickets.templatetags.pacte import percent
from tickets.triage.services import accuracy as triage_accuracy
from tickets.views.common import manager_user

MAX_DAYS = 3 * 366


class Period(models.TextChoices):
    """The span a report covers."""

    MONTH = "month", gettext_lazy("Month")
    QUARTER = "quarter", gettext_lazy("Quarter")
    YEAR = "year", gettext_lazy("Year")
    CUSTOM = "custom", gettext_lazy("Custom range")


class ReportForm(forms.Form):
    period = forms.ChoiceField(label=gettext_lazy("Period"), choices=Period.choices)
    on = forms.DateField(
        label=gettext_lazy("Containing the day"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    start = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=gettext_lazy("To (inclusive)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    desk: forms.ModelChoiceField[Desk] = forms.ModelChoiceField(
        label=gettext_lazy("Desk"),
        queryset=Desk.objects.none(),
        required=False,
        empty_label=gettext_lazy("Every desk"),
    )
    organization = forms.ModelChoiceField(
        label=gettext_lazy("Organization"),
        queryset=Organization.objects.order_by("name"),
        required=False,
        empty_label=gettext_lazy("Every organization"),
    )
    severity = forms.ChoiceField(
        label=gettext_lazy("Severity"),
        choices=[("", gettext_lazy("Any severity")), *Severity.choices],
        required=False,
    )
    agent: forms.ModelChoiceField[User] = AgentChoiceField(
        label=gettext_lazy("Agent"),
        queryset=User.objects.none(),
        required=False,
        empty_label=gettext_lazy("Every agent"),
    )
    tag = forms.ModelChoiceField(
        label=gettext_lazy("Tag"),
        queryset=Tag.objects.all(),
        to_field_name="name",
        required=False,
        empty_label=gettext_lazy("Any tag"),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        desk, agent = self.fields["desk"], self.fields["agent"]
        assert isinstance(desk, forms.ModelChoiceField)
        assert isinstance(agent, forms.ModelChoiceField)
        desk.queryset = access.desks_worked_by(user)
        agent.queryset = User.objects.filter(
            role__in=[User.Role.AGENT, User.Role.MANAGER], is_active=True
        ).order_by("first_name", "username")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("period") == Period.CUSTOM:
            start, end = data.get("start"), data.get("end")
            if not start or not end:
                raise forms.ValidationError(_("A custom range needs its first and last day."))
            if end < start:
                raise forms.ValidationError(_("The range ends before it starts."))
            if (end - start).days > MAX_DAYS:
                raise forms.ValidationError(_("A range covers three years at most."))
        return data

    def days(self, today: date) -> tuple[date, date]:
        """First day and the day after the last, of the chosen period."""
        data = self.cleaned_data
        period, on = data.get("period") or Period.MONTH, data.get("on") or today
        if period == Period.CUSTOM:
            return data["start"], data["end"] + timedelta(days=1)
        if period == Period.YEAR:
            return date(on.year, 1, 1), date(on.year + 1, 1, 1)
        months = 3 if period == Period.QUARTER else 1
        first_month = (on.month - 1) // months * months + 1
        first = date(on.year, first_month, 1)
        after = first_month - 1 + months
        return first, date(on.year + after // 12, after % 12 + 1, 1)

    def report_filter(self, zone: ZoneInfo, today: date) -> figures.ReportFilter:
        first, after = self.days(today)
        data = self.cleaned_data
        return figures.ReportFilter(
            start=datetime.combine(first, time(0), tzinfo=zone),
            end=datetime.combine(after, time(0), tzinfo=zone),
            desk_id=data["desk"].pk if data.get("desk") else None,
            organization_id=data["organization"].pk if data.get("organization") else None,
            severity=data.get("severity") or "",
            agent_id=data["agent"].pk if data.get("agent") else None,
            tag_id=data["tag"].pk if data.get("tag") else None,
        )


@dataclass(frozen=True)
class ChartBar:
    """SVG numbers as strings: a template would localize them ("12,5" in French)."""

    x: str
    y: str
    height: str
    label: str
    tick: str  # the axis label under the bar, "" on the bars between labels
    middle: str = ""  # the bar's centre, where its label is centred


CHART_W, CHART_H, CHART_PAD = 640, 180, 24
CHART_LEFT = 40  # room for the axis' numbers
MAX_BAR_W = 48  # a month alone is a bar, not the whole width


def _axis_top(received: int) -> int:
    """The top of the axis: even, so that its midpoint is a whole number of tickets."""
    return max(2, received + received % 2)


def _chart_bar(
    m: figures.MonthFigures, x: float, step: float, y_of: Callable[[float], float], tick: str
) -> ChartBar:
    name = formats.date_format(m.month, "YEAR_MONTH_FORMAT")
    tickets = ngettext("%(month)s: %(n)d ticket", "%(month)s: %(n)d tickets", m.received)
    label = tickets % {"month": name, "n": m.received}
    if m.met_share is not None:
        label += " · " + _("%(share)s corrected on time") % {"share": percent(m.met_share)}
    width, top_y = min(step * 0.7, MAX_BAR_W), y_of(m.received)
    return ChartBar(
        f"{x + (step - width) / 2:.1f}", f"{top_y:.1f}", f"{y_of(0) - top_y:.1f}", label, tick,
        f"{x + step / 2:.1f}",
    )  # fmt: skip


def _chart(months: list[figures.MonthFigures]) -> dict[str, Any]:
    """Tickets received each month as bars (at most MAX_BAR_W wide, centred in their month,
    the axis labelled at 0, its middle and its top), the share of corrections on time as a
    line."""
    if not months:
        return {}
    top = _axis_top(max(m.received for m in months))
    step = (CHART_W - CHART_LEFT - CHART_PAD) / len(months)
    plot = CHART_H - 2 * CHART_PAD

    def y_of(n: float) -> float:
        return CHART_PAD + plot * (1 - n / top)

    # Axis labels that fit under their bars: the full month for a quarter, its abbreviation
    # ("juin", "juil.", "Jul") for a year, and month/year on one bar in ``every`` beyond.
    axis = "YEAR_MONTH_FORMAT" if len(months) <= 4 else "m/y"
    if 4 < len(months) <= 12:
        axis = named("MONTH_ABBREVIATION_FORMAT")
    every = -(-len(months) // 12)
    bars: list[ChartBar] = []
    points: list[tuple[float, float]] = []
    for i, m in enumerate(months):
        x = CHART_LEFT + i * step
        tick = formats.date_format(m.month, axis) if i % every == 0 else ""
        bars.append(_chart_bar(m, x, step, y_of, tick))
        if m.met_share is not None:
            points.append((x + step / 2, y_of(top * float(m.met_share))))
    return {
        "bars": bars,
        "bar_width": f"{min(step * 0.7, MAX_BAR_W):.1f}",
        "line": " ".join(f"{px:.1f},{py:.1f}" for px, py in points),
        "points": [(f"{px:.1f}", f"{py:.1f}") for px, py in points],
        "width": CHART_W,
        "height": CHART_H,
        "left": CHART_LEFT,
        "label_x": CHART_LEFT - 6,
        # The axis' numbers: 0, the middle and the top, each at its height (text baseline
        # a third of the font below it, so the number is centred on its line).
        "levels": [(str(n), f"{y_of(n):.1f}", f"{y_of(n) + 3.5:.1f}") for n in (0, top // 2, top)],
        "base": f"{y_of(0):.1f}",
        "label_y": CHART_H - 6,
    }


def _report_context(request: HttpRequest) -> dict[str, Any]:
    user = manager_user(request)
    form = ReportForm(request.GET or {"period": Period.MONTH}, user=user)
    zone = timezone.get_current_timezone()
    today = timezone.localdate()
    if not form.is_valid():
        return {"form": form}
    filters = form.report_filter(zone, today)
    tickets = figures.report_tickets(access.visible_tickets(user), filters)
    assert access.sees_everything(user)  # manager_user: the roll-ups count every ticket
    report = rollups.sla_report_rolled(filters, zone)
    breaches = listings.breaches(tickets)
    pages = Paginator(breaches, 50)
    # Known from the figures: no second pass to count them. (A breach the sweep marks between
    # the two statements shows on the next request; the last page may then miss one row.)
    pages.count = report.breached
    page, now = pages.get_page(request.GET.get("page")), timezone.now()
    return {
        "form": form,
        "filters": filters,
        "last_day": (filters.end - timedelta(days=1)).date(),
        "report": report,
        "ack_share": report.share(Metric.ACKNOWLEDGEMENT),
        "correction_share": report.share(Metric.CORRECTION),
        # Late and still counting: not in the shares above (the finished ones), said beside.
        "ack_overdue": report.overdue(Metric.ACKNOWLEDGEMENT),
        "correction_overdue": report.overdue(Metric.CORRECTION),
        "reply_share": report.share(Metric.NEXT_REPLY),
        "update_share": report.share(Metric.UPDATE),
        "tickets_breaches": breaches,
        "breaches": page,
        "breach_rows": listings.breach_rows(page, now=now),
        "at_risk": list(listings.at_risk(tickets, now=now)[:20]),
        "severity_changes": listings.severity_change_rows(
            list(listings.severity_changes(tickets)[:50])
        ),
        "pauses": listings.pauses_by_reason(tickets),
        "triage_accuracy": triage_accuracy(now=now),
        **_satisfaction(filters),
        "chart": _chart(report.months),
        "query": _without_page(request),
    }


def _satisfaction(filters: figures.ReportFilter) -> dict[str, object]:
    """Customers' ratings given in the period, by desk and by the agent rated, and the last
    comments of those who were not satisfied."""
    ratings = ratings_of_period(
        start=filters.start,
        end=filters.end,
        desk_id=filters.desk_id,
        organization_id=filters.organization_id,
        severity=filters.severity,
        agent_id=filters.agent_id,
        tag_id=filters.tag_id,
    )
    unhappy = ratings.filter(score=SatisfactionRating.Score.BAD).exclude(comment="")
    return {
        "satisfaction_desks": satisfaction_rows(ratings, "desk"),
        "satisfaction_agents": satisfaction_rows(ratings, "agent"),
        "satisfaction_comments": list(
            unhappy.select_related("ticket", "agent").order_by("-rated_at")[:10]
        ),
    }


def _without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@login_required
def sla_report(request: HttpRequest) -> HttpResponse:
    context = _report_context(request)
    return render(request, "sla/report.html", context, status=200 if "report" in context else 400)


@writes_on_get
@login_required
def sla_report_csv(request: HttpRequest) -> HttpResponse:
    """The report's figures and its breaches as CSV (`sla.reports.export`)."""
    context = _report_context(request)
    if "report" not in context:
        return HttpResponse(
            "; ".join(str(e) for errors in context["form"].errors.values() for e in errors),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    filters = context["filters"]
    name = f"sla-report-{filters.start.date()}-{context['last_day']}.csv"
    audit_record(
        AuditEvent.Kind.EXPORT,
        target="SLA report CSV",
        request=request,
        detail={"from": str(filters.start.date()), "to": str(context["last_day"])},
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    csv.writer(response).writerows(
        report_rows(
            context["report"],
            context["tickets_breaches"],
            first_day=filters.start.date(),
            last_day=context["last_day"],
            now=timezone.now(),
        )
    )
    return response


BUDGET_WARNING = Decimal("0.25")  # under a quarter of the year's budget left: shown amber


@login_required
def availability_report(request: HttpRequest) -> HttpResponse:
    """Every organization's availability this year against its commitment, month by month,
    and the downtime still allowed (the error budget)."""
    manager_user(request)
    now, zone = timezone.now(), timezone.get_current_timezone()
    this_year = timezone.localdate().year
    try:
        year = int(request.GET.get("year", this_year))
    except ValueError:
        year = this_year
    if not 2000 <= year <= this_year:
        year = this_year
    rows = availability_overview(
        Organization.objects.filter(under_contract=True).order_by("name"),
        year=year,
        zone=zone,
        now=now,
    )
    months = [
        formats.date_format(date(year, m, 1), named("MONTH_ABBREVIATION_FORMAT"))
        for m in range(1, (len(rows[0].months) if rows else 0) + 1)
    ]
    # The credit each contract owes for the last complete month shown (not this one, still
    # running), else January.
    last = 12 if year < this_year else max(timezone.localdate().month - 1, 1)
    credits = [
        credit_for_month(
            row.organization, year=year, month=last, zone=organization_zone(row.organization),
            now=now,
        )
        for row in rows
    ]  # fmt: skip
    return render(
        request,
        "sla/availability.html",
        {
            "rows": list(zip(rows, credits, strict=True)),
            "year": year,
            "years": list(range(this_year, this_year - 5, -1)),
            "months": months,
            "credit_month": formats.date_format(date(year, last, 1), "YEAR_MONTH_FORMAT"),
            "warning": BUDGET_WARNING,
        },
    )


def openable_breaches(user: User, context: dict[str, Any]) -> set[int]:
    """The tickets of a monthly report's missed deadlines that its reader may open."""
    rows: list[listings.BreachRow] = context["breach_rows"]
    return access.openable_ticket_ids(user, (row.clock.ticket_id for row in rows))


@login_required
def monthly_report(request: HttpRequest, slug: str) -> HttpResponse:
    """One organization's month, to print (or save as PDF) and send to the customer: the
    promises kept, the misses, and the availability against the commitment."""
    user = manager_user(request)
    organization = get_object_or_404(Organization, slug=slug)
    zone = organization_zone(organization)
    context = monthly_report_figures(
        organization, access.visible_tickets(user), request.GET.get("month", ""), zone=zone
    )
    context["openable"] = openable_breaches(user, context)
    with timezone.override(zone):  # the organization's month, in its own zone
        return render(request, "sla/monthly_report.html", context)
