"""The agent queue's rows, rendered in Python.

The queue is the page agents keep open all day and htmx asks for again every few seconds. Fifty
rows through the template engine cost more than the page's SQL: each row resolved some forty
variables and translated about thirty strings, the same ones on every row (bench/peer/
compare.py's profile). Here the words are translated once a page, then each row is one
``format_html``. Same markup as the template it replaced.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from functools import cached_property

from django import template
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from sla.models import Metric
from tickets.models import Channel, Severity, Status, Ticket, TicketTriage
from tickets.selectors import BadgeState, QueueRow, SlaBadge
from tickets.templatetags.pacte import duration_in, duration_units

register = template.Library()

ROW = (
    '<tr data-href="{url}">'
    '<td><input type="checkbox" id="sel-{pk}" name="tickets" value="{pk}" form="bulk"'
    ' hx-preserve="true" aria-label="{select}"></td>'
    '<td class="due">{badge}</td>'
    '<td><a href="{url}"><span class="ref">{reference}</span> {subject}</a>'
    '<div class="muted small">{requester}{channel}</div></td>'
    '<td><span class="badge sev-{severity}">{severity_label}</span>{flag}</td>'
    '<td><span class="badge status-{status}">{status_label}</span></td>'
    '<td data-label="{organization_word}">{organization}</td>'
    '<td data-label="{desk_word}">{desk}</td>'
    '<td data-label="{assignee_word}">{assignee}</td>'
    "</tr>"
)


class Words:
    """What a page of rows says, each translated once in the active language."""

    @cached_property
    def labels(self) -> dict[str, str]:
        return {
            str(value): str(label)
            for choices in (Severity, Status, Channel, Metric)
            for value, label in choices.choices
        }

    @cached_property
    def flag(self) -> SafeString:
        """The badge of a ticket whose text suggests a stricter severity than chosen."""
        return format_html(
            ' <span class="badge sla-warning" title="{}">{}</span>',
            _("The text suggests a stricter severity than the customer chose."),
            _("may be more severe"),
        )

    @cached_property
    def columns(self) -> dict[str, str]:
        return {"organization": _("Organization"), "desk": _("Desk"), "assignee": _("Assignee")}

    @cached_property
    def badge(self) -> dict[str, str]:
        return {
            "paused": pgettext("deadline badge", "paused"),
            "due": _("due"),
            "overdue": _("overdue by %(left)s"),
            "left": _("%(left)s left"),
            **duration_units(),
            "business_hours": _("business hours"),
            "business_days": _("business days"),
        }

    def duration(self, value: timedelta) -> str:
        """As the `duration` filter, with the page's words."""
        return duration_in(value, self.badge)


def badge_html(badge: SlaBadge, words: Words) -> SafeString:
    """A row's SLA badge: time left, or overdue by, in the nearest clock's own kind."""
    if badge.state == BadgeState.NONE or badge.clock is None:
        return mark_safe('<span class="muted">—</span>')
    clock, said = badge.clock, words.badge
    metric = words.labels.get(clock.metric, clock.metric)
    if badge.state == BadgeState.PAUSED:
        return format_html(
            '<span class="badge sla-paused" title="{}">{}</span>', metric, said["paused"]
        )
    left = words.duration(badge.remaining or timedelta())
    sentence = said["overdue"] if badge.state == BadgeState.BREACHED else said["left"]
    due = (
        formats.date_format(timezone.localtime(clock.due_at), "SHORT_DATETIME_FORMAT")
        if clock.due_at
        else "—"
    )
    kind = f" · {said[clock.kind]}" if clock.kind in said else ""
    return format_html(
        '<span class="badge sla-{}" title="{} · {} {}">{}</span>'
        '<div class="muted small">{}{}</div>',
        badge.state,
        metric,
        said["due"],
        due,
        sentence % {"left": left},
        metric,
        kind,
    )


def _flagged(ticket: Ticket) -> bool:
    try:
        return ticket.triage.flagged  # selected with the row; none before triage began
    except TicketTriage.DoesNotExist:
        return False


@register.simple_tag
def queue_rows(rows: Sequence[QueueRow]) -> SafeString:
    """The queue table's rows (tickets with their requester, organization, desk, assignee)."""
    words = Words()
    labels, columns = words.labels, words.columns
    detail = reverse("tickets:detail", args=["REFERENCE"])
    nobody = mark_safe('<span class="muted">—</span>')
    select = _("Select %(ref)s")

    def cells(row: QueueRow) -> dict[str, object]:
        t = row.ticket
        assignee = t.assignee
        return {
            "url": detail.replace("REFERENCE", t.reference),
            "pk": t.pk,
            "select": select % {"ref": t.reference},
            "badge": badge_html(row.badge, words),
            "reference": t.reference,
            "subject": t.subject,
            "requester": t.requester.name,
            "channel": "" if t.channel == Channel.WEB else f" · {labels[t.channel]}",
            "severity": t.severity,
            "severity_label": labels[t.severity],
            "flag": words.flag if _flagged(t) else "",
            "status": t.status,
            "status_label": labels[t.status],
            "organization_word": columns["organization"],
            "organization": t.organization.name,
            "desk_word": columns["desk"],
            "desk": t.desk.name,
            "assignee_word": columns["assignee"],
            "assignee": (assignee.get_full_name() or assignee.username) if assignee else nobody,
        }

    return mark_safe("".join(format_html(ROW, **cells(row)) for row in rows))  # each escaped
