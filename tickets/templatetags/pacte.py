"""Formatting only: labels for stored codes and a sentence for each history event."""

from __future__ import annotations

from django import template
from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sla.models import Metric
from tickets.models import Severity, Status, TicketEvent

register = template.Library()

CLOCK_STATES = {
    "running": gettext_lazy("running"),
    "paused": gettext_lazy("paused"),
    "stopped:met": gettext_lazy("stopped, kept"),
    "stopped:breached": gettext_lazy("stopped, late"),
}


def _label(choices: type[Status] | type[Severity] | type[Metric], value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _when(iso: str) -> str:
    instant = parse_datetime(iso)
    if instant is None:
        return "—"
    return formats.date_format(timezone.localtime(instant), "DATETIME_FORMAT")


@register.filter
def event_summary(event: TicketEvent) -> SafeString:
    who = (event.actor.get_full_name() or event.actor.get_username()) if event.actor else "Pacte"
    kind = event.kind
    if kind == TicketEvent.Kind.CREATED:
        return format_html(_("{} opened the ticket"), who)
    if kind == TicketEvent.Kind.STATUS:
        return format_html(
            _("{} changed the status: {} → {}"),
            who,
            _label(Status, event.before),
            _label(Status, event.after),
        )
    if kind == TicketEvent.Kind.SEVERITY:
        return format_html(
            _("{} changed the severity: {} → {}"),
            who,
            _label(Severity, event.before),
            _label(Severity, event.after),
        )
    if kind == TicketEvent.Kind.ASSIGNEE:
        return format_html(_("{} assigned the ticket to {}"), who, event.after or "—")
    if kind == TicketEvent.Kind.CLOCK:
        metric = _label(Metric, event.field)
        if event.before.startswith("due:") or event.after.startswith("due:"):
            return format_html(
                _("{} deadline recomputed: {} → {}"),
                metric,
                _when(event.before[4:]),
                _when(event.after[4:]),
            )
        state = CLOCK_STATES.get(event.after, event.after)
        if event.after == "running" and event.note.startswith("due:"):
            return format_html(_("{} clock {}, due {}"), metric, state, _when(event.note[4:]))
        return format_html(_("{} clock {}"), metric, state)
    return format_html("{}", event.get_kind_display())
