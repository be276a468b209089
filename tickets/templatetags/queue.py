"""The agent queue's rows, rendered in Python.

The queue is the page agents keep open all day and htmx asks for again every few seconds. Fifty
rows through the template engine cost more than the page's SQL: each row resolved some forty
variables and translated about thirty strings, the same ones on every row (bench/peer/
compare.py's profile). Here the words are translated once a page, then each row is one
``format_html``. Same markup as the template it replaced.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import cached_property

from django import template
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from sla.models import Metric
from tickets import selectors
from tickets.models import Channel, Severity, Status, Ticket, TicketTriage
from tickets.selectors import BadgeState, QueueRow, SlaBadge
from tickets.templatetags.pacte import due_instant, duration_in, duration_units

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

    @cached_property
    def chat_waiting(self) -> str:
        return _("chat waiting")

    @cached_property
    def waited(self) -> str:
        return _("for %(time)s")

    def duration(self, value: timedelta) -> str:
        """As the `duration` filter, with the page's words."""
        return duration_in(value, self.badge)


def badge_html(badge: SlaBadge, words: Words, now: datetime) -> SafeString:
    """A row's SLA badge: the due instant in the reader's time zone, so rows compare at a
    glance, then the time left (or overdue by) counted the way the nearest clock counts."""
    if badge.state == BadgeState.NONE or badge.clock is None:
        return mark_safe('<span class="muted">—</span>')
    clock, said = badge.clock, words.badge
    metric = words.labels.get(clock.metric, clock.metric)
    if badge.state == BadgeState.PAUSED:
        return format_html(
            '<span class="badge sla-paused">{}</span><div class="muted small">{}</div>',
            said["paused"],
            metric,
        )
    left = words.duration(badge.remaining or timedelta())
    sentence = said["overdue"] if badge.state == BadgeState.BREACHED else said["left"]
    kind = f" · {said[clock.kind]}" if clock.kind in said else ""
    return format_html(
        '<span class="badge sla-{}" title="{} · {} {}"><time datetime="{}">{}</time></span>'
        '<div class="small">{}</div><div class="muted small">{}{}</div>',
        badge.state,
        metric,
        said["due"],
        formats.date_format(timezone.localtime(clock.due_at), "DATETIME_FORMAT"),
        clock.due_at.isoformat() if clock.due_at else "",
        due_instant(clock.due_at, now),
        sentence % {"left": left},
        metric,
        kind,
    )


def _flagged(ticket: Ticket) -> bool:
    try:
        return ticket.triage.flagged  # selected with the row; none before triage began
    except TicketTriage.DoesNotExist:
        return False


class Row:
    """The cells of one row, with the page's words (one per page, so one reverse())."""

    def __init__(self, words: Words) -> None:
        self.words = words
        self.detail = reverse("tickets:detail", args=["REFERENCE"])
        self.chat = reverse("chat:room", args=["REFERENCE"])
        self.nobody = mark_safe('<span class="muted">—</span>')
        self.select = _("Select %(ref)s")

    def html(self, t: Ticket, badge: SafeString, *, url: str = "") -> SafeString:
        labels, columns = self.words.labels, self.words.columns
        assignee = t.assignee
        return format_html(
            ROW,
            url=url or self.detail.replace("REFERENCE", t.reference),
            pk=t.pk,
            select=self.select % {"ref": t.reference},
            badge=badge,
            reference=t.reference,
            subject=t.subject,
            requester=t.requester.name,
            channel="" if t.channel == Channel.WEB else f" · {labels[t.channel]}",
            severity=t.severity,
            severity_label=labels.get(t.severity, "—"),
            flag=self.words.flag if _flagged(t) else "",
            status=t.status,
            status_label=labels[t.status],
            organization_word=columns["organization"],
            organization=t.organization.name,
            desk_word=columns["desk"],
            desk=t.desk.name,
            assignee_word=columns["assignee"],
            assignee=(assignee.get_full_name() or assignee.username) if assignee else self.nobody,
        )


@register.simple_tag
def queue_body(
    rows: Sequence[QueueRow],
    chats_from: QuerySet[Ticket] | None,
    chats_waiting: int = 0,
    now: datetime | None = None,
) -> SafeString:
    """The queue table's rows: the chats waiting for an agent first (when the navigation's
    count says some wait, ``chats_from`` being the page's filtered tickets), then the tickets,
    nearest deadline first, each once."""
    words = Words()
    now = now or timezone.now()
    row = Row(words)
    chats = selectors.waiting_chats(chats_from) if chats_waiting and chats_from is not None else []
    chatting = {ticket.pk for ticket in chats}
    html = [chat_row(row, ticket, now) for ticket in chats]
    html += [
        row.html(r.ticket, badge_html(r.badge, words, now))
        for r in rows
        if r.ticket.pk not in chatting
    ]
    return mark_safe("".join(html))  # each row escaped by format_html


def chat_row(row: Row, ticket: Ticket, now: datetime) -> SafeString:
    """A chat waiting for an agent: for how long the customer has waited; it opens the
    conversation."""
    started = ticket.chat.started_at
    badge = format_html(
        '<span class="badge sla-warning chat-waiting" title="{}">{}</span>'
        '<div class="small">{}</div>',
        formats.date_format(timezone.localtime(started), "DATETIME_FORMAT"),
        row.words.chat_waiting,
        row.words.waited % {"time": row.words.duration(max(now - started, timedelta()))},
    )
    return row.html(ticket, badge, url=row.chat.replace("REFERENCE", ticket.reference))
