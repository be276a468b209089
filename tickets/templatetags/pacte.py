"""Formatting only: labels for stored codes and a sentence for each history event."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any
from urllib.parse import quote

from django import template
from django.db import models
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext

from config.formats import named, of
from sla.clocks.deadlines import PAUSE_NOTE
from sla.clocks.escalation import OVERTAKEN
from sla.clocks.recount import NOTE_PREFIX, calendar_change_text
from sla.models import Metric, Notification, PauseReason, SlaTarget, StopReason
from sla.policies import TargetRow, rows_promise
from tickets.accounts.time_zones import utc_offset
from tickets.channels.email.parsing import sanitize_html
from tickets.models import (
    CONFIRMED_FIELD,
    Attachment,
    Message,
    Severity,
    SeveritySource,
    Status,
    SystemNote,
    TicketEvent,
)

register = template.Library()

# One whole sentence per clock change, so that translators can agree every word.
CLOCK_SENTENCES = {
    "running": gettext_lazy("{metric}: clock running, due {due}"),
    "paused": gettext_lazy("{metric}: clock paused"),
    "stopped:met": gettext_lazy("{metric}: clock stopped, deadline kept"),
    "stopped:breached": gettext_lazy("{metric}: clock stopped, deadline missed"),
}


def _lowered(label: str) -> str:
    """A label inside a sentence: "deadline approaching", "échéance proche"."""
    return label[:1].lower() + label[1:]


def _label(choices: type[models.TextChoices], value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


@register.filter(name="of")
def of_filter(name: str) -> str:
    """``config.formats.of``: "d’Eventia" in French, "Eventia" in English."""
    return of(str(name))


@register.filter
def due_instant(instant: datetime | None, now: datetime | None = None) -> str:
    """A deadline short enough for a queue row and comparable across rows, in the reader's
    time zone: "today 14:30", "tomorrow 09:00", "Mon 09:00" within the week, "12 Dec 09:00"
    beyond it (and "yesterday 17:00", "28 Nov 17:00" once past)."""
    if instant is None:
        return "—"
    local = timezone.localtime(instant)
    today = timezone.localtime(now or timezone.now()).date()
    days = (local.date() - today).days
    time = formats.time_format(local, "TIME_FORMAT")
    if days == 0:
        return pgettext("due instant", "today %(time)s") % {"time": time}
    if days == 1:
        return pgettext("due instant", "tomorrow %(time)s") % {"time": time}
    if days == -1:
        return pgettext("due instant", "yesterday %(time)s") % {"time": time}
    if 1 < days < 7:
        return formats.date_format(local, named("WEEKDAY_TIME_FORMAT"))
    if local.year == today.year:
        return formats.date_format(local, named("DAY_MONTH_TIME_FORMAT"))
    return formats.date_format(local, "DATETIME_FORMAT")


def _when(iso: str) -> str:
    instant = parse_datetime(iso)
    if instant is None:
        return "—"
    return formats.date_format(timezone.localtime(instant), "DATETIME_FORMAT")


@register.filter
def clock_note(event: TicketEvent) -> str:
    """What a clock event's note says to a reader: a stop's reason, a pause's reason (an
    internal one as "on hold"); nothing for a moved deadline, whose cause its summary says."""
    note = event.note
    if not note or note.startswith(NOTE_PREFIX) or note.startswith("due:"):
        return ""
    if note.startswith(PAUSE_NOTE):
        reason = PauseReason.objects.filter(slug=note.removeprefix(PAUSE_NOTE)).first()
        return _("On hold") if reason is None or reason.internal else reason.label
    return note_label(note)


@register.filter
def note_label(note: str) -> str:
    """A note Pacte wrote (stored as a code) in the reader's language; people's notes as is."""
    for choices in (SystemNote, StopReason):
        try:
            return str(choices(note).label)
        except ValueError:
            continue
    return note


@register.filter
def event_summary(event: TicketEvent) -> SafeString:
    who = (event.actor.get_full_name() or event.actor.get_username()) if event.actor else "Pacte"
    kind = event.kind
    if kind == TicketEvent.Kind.CREATED:
        return format_html(_("{who} opened the ticket"), who=who)
    if kind == TicketEvent.Kind.STATUS:
        return format_html(
            _("{who} changed the status from {before} to {after}"),
            who=who,
            before=_label(Status, event.before),
            after=_label(Status, event.after),
        )
    if kind == TicketEvent.Kind.TRIAGE:
        return _triage_summary(event, who)
    if kind == TicketEvent.Kind.SEVERITY:
        return format_html(
            _("{who} changed the severity from {before} to {after}"),
            who=who,
            before=_label(Severity, event.before),
            after=_label(Severity, event.after),
        )
    if kind == TicketEvent.Kind.ASSIGNEE:
        if not event.after:
            return format_html(_("{who} removed the assignee"), who=who)
        if event.actor and event.after == who:
            return format_html(_("{who} took the ticket"), who=who)
        return format_html(
            _("{who} assigned the ticket to {assignee}"), who=who, assignee=event.after
        )
    if kind == TicketEvent.Kind.TAGS:
        return _tags_summary(event, who)
    if kind == TicketEvent.Kind.CLOCK:
        return _clock_summary(event)
    if kind == TicketEvent.Kind.ESCALATION and event.note == OVERTAKEN:
        return format_html(
            _("{metric}: the warning was not sent, the deadline passed before escalations ran"),
            metric=_label(Metric, event.field),
        )
    if kind == TicketEvent.Kind.ESCALATION:
        return format_html(
            _("{metric}: escalated ({alert})"),
            metric=_label(Metric, event.field),
            alert=_lowered(_label(Notification.Kind, event.note)),
        )
    if kind == TicketEvent.Kind.MERGED:
        if event.after:
            return format_html(
                _("{who} merged this ticket into {ref}"),
                who=who,
                ref=_reference_link(event.after),
            )
        return format_html(
            _("{who} merged {ref} into this ticket"), who=who, ref=_reference_link(event.before)
        )
    return format_html("{}", event.get_kind_display())


def _tags_summary(event: TicketEvent, who: str) -> SafeString:
    """Tags added (``after``) and removed (``before``), each a link to the queue's tickets
    with that tag."""
    queue = reverse("desk:queue")

    def links(names: str) -> SafeString:
        return format_html_join(
            ", ",
            '<a class="tag" href="{}?view=all&amp;tag={}">{}</a>',
            ((queue, quote(name), name) for name in names.split(", ") if name),
        )

    if event.after and event.before:
        return format_html(
            _("{who} added the tags {added} and removed {removed}"),
            who=who,
            added=links(event.after),
            removed=links(event.before),
        )
    if event.after:
        return format_html(_("{who} added the tags {added}"), who=who, added=links(event.after))
    return format_html(_("{who} removed the tags {removed}"), who=who, removed=links(event.before))


def _triage_summary(event: TicketEvent, who: str) -> SafeString:
    """Where a new ticket's severity came from (``source suggested confidence`` in the note),
    or an agent confirming it."""
    severity = _label(Severity, event.after)
    if event.field == CONFIRMED_FIELD:
        return format_html(
            _("{who} confirmed the severity: {severity}"), who=who, severity=severity
        )
    source, suggested, confidence = (event.note.split() + ["", "", "0"])[:3]
    share = percent(float(confidence))
    if source == SeveritySource.SUGGESTION:
        return format_html(
            _("Severity {severity}, suggested from the text ({percent} confident)"),
            severity=severity,
            percent=share,
        )
    how = _label(SeveritySource, source)
    return format_html(
        _("Severity {severity}, {how}; suggested from the text: {suggested} ({percent})"),
        severity=severity,
        how=how,
        suggested=_label(Severity, suggested),
        percent=share,
    )


def _clock_summary(event: TicketEvent) -> SafeString:
    metric = _label(Metric, event.field)
    if event.note.startswith(NOTE_PREFIX):
        return format_html(
            _("{metric}: deadline moved from {before} to {after} ({cause})"),
            metric=metric,
            before=_when(event.before[4:]),
            after=_when(event.after[4:]),
            cause=calendar_change_text(event.note),
        )
    if event.before.startswith("due:") or event.after.startswith("due:"):
        return format_html(
            _("{metric}: deadline recomputed from {before} to {after}"),
            metric=metric,
            before=_when(event.before[4:]),
            after=_when(event.after[4:]),
        )
    sentence = CLOCK_SENTENCES.get(event.after)
    if sentence is None:
        return format_html("{metric}: {state}", metric=metric, state=event.after)
    due = _when(event.note[4:]) if event.note.startswith("due:") else "—"
    return format_html(str(sentence), metric=metric, due=due)


def _reference_link(reference: str) -> SafeString:
    return format_html(
        '<a href="{}">{}</a>', reverse("tickets:detail", args=[reference]), reference
    )


def duration_units() -> dict[str, str]:
    """The units of a duration, in the active language."""
    return {"d": _("%(n)d d"), "h": _("%(n)d h"), "min": _("%(n)d min")}


def duration_in(value: timedelta, units: Mapping[str, str]) -> str:
    """A timedelta as "2 d 3 h 15 min", the largest units first (`units`: duration_units())."""
    days, rest = divmod(int(value.total_seconds() // 60), 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [units[unit] % {"n": n} for unit, n in (("d", days), ("h", hours)) if n]
    if minutes or not parts:
        parts.append(units["min"] % {"n": minutes})
    return " ".join(parts)


@register.filter
def duration(value: timedelta | None) -> str:
    """A timedelta as "2 d 3 h 15 min", the largest units first."""
    return "—" if value is None else duration_in(value, duration_units())


@register.filter
def late_by(value: timedelta | None, kind: str) -> str:
    """How late a clock of `kind` is, its unit said once: "16 business days 3 h",
    "41 business hours 15 min" (never days: a business day is not 24 business hours), and
    "2 d 3 h" round the clock."""
    if value is None:
        return "—"
    units = duration_units()
    if kind == "business_days" and value >= timedelta(days=1):
        whole = ngettext("%(n)d business day", "%(n)d business days", value.days)
        rest = value - timedelta(days=value.days)
        n = value.days
    elif kind == "business_hours" and value >= timedelta(hours=1):
        n = int(value.total_seconds() // 3600)
        whole = ngettext("%(n)d business hour", "%(n)d business hours", n)
        rest = value - timedelta(hours=n)
    else:
        return duration_in(value, units)
    text = whole % {"n": n}
    return f"{text} {duration_in(rest, units)}" if rest >= timedelta(minutes=1) else text


@register.filter
def datetime_zone(instant: datetime | None) -> str:
    """An instant in the one date-time form followed by its time zone, for a page read from
    other zones: "Fri 11 Dec 2026, 13:00 CET" ("UTC+04:00" where the zone has no letters)."""
    if instant is None:
        return "—"
    local = timezone.localtime(instant)
    name = local.tzname() or ""
    if not name or name[0] in "+-":
        name = utc_offset(local.utcoffset() or timedelta(0))
    return f"{formats.date_format(local, 'DATETIME_FORMAT')} {name}"


@register.filter
def severity_label(value: str) -> str:
    return _label(Severity, value)


def _percent_sign(number: str) -> str:
    """A number with its percent sign, as the reader's language writes it: "87%", "87 %"."""
    return _("%(number)s%%") % {"number": number}


@register.filter
def percent(value: float | Decimal | None) -> str:
    """A share (0–1) as a whole percentage in the reader's language: 0.873 → "87%" (English),
    "87 %" (French); "—" for no share."""
    if value is None:
        return "—"
    return _percent_sign(formats.number_format(round(Decimal(str(value)) * 100)))


@register.filter
def percentage(value: float | Decimal | None) -> str:
    """A number already in percent, as a credit or a cap is written: 10 → "10%", 2.5 →
    "2.50%" (two decimals, none when whole); "—" for none."""
    if value is None:
        return "—"
    return _percent_sign(floatformat(value, -2))


@register.filter
def availability(value: Decimal | None) -> str:
    """A measured availability (in percent) with two decimals, rounded down so that it never
    reads as meeting a commitment it misses: 99.4996 → "99.49%" (French "99,49 %"); "—" when
    nothing could be measured."""
    if value is None:
        return "—"
    floored = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    return _percent_sign(formats.number_format(floored, 2))


@register.filter
def share_beside_availability(value: float | Decimal | None) -> str:
    """A share (0–1) written like the availability beside it, two decimals rounded down, so
    that one missed promise never reads as "100.00%": 2/3 → "66.66%"; "—" for no share."""
    return "—" if value is None else availability(Decimal(str(value)) * 100)


@register.filter
def commitment(value: Decimal) -> str:
    """An availability commitment (in percent) as the contract says it, two decimals or three
    when it has them: "99.50%", "99.995%"."""
    places = 2 if Decimal(value) % Decimal("0.01") == 0 else 3
    return _percent_sign(formats.number_format(value, places))


CLOCK_KINDS = {
    "wall": gettext_lazy("calendar time"),
    "business_hours": gettext_lazy("business hours"),
    "business_days": gettext_lazy("business days"),
}


@register.filter
def target_words(target: SlaTarget | None) -> str:
    """A promise as customers read it: "5 business hours", "1 business day"."""
    if target is None:
        return "—"
    n = target.amount
    if target.kind == "business_days":
        return ngettext("%(n)d business day", "%(n)d business days", n) % {"n": n}
    if target.kind == "business_hours":
        return ngettext("%(n)d business hour", "%(n)d business hours", n) % {"n": n}
    return ngettext("%(n)d hour, round the clock", "%(n)d hours, round the clock", n) % {"n": n}


@register.filter
def clock_kind(kind: str) -> str:
    """How a clock counts, in words: its time left is given in that kind."""
    return str(CLOCK_KINDS.get(kind, kind))


@register.filter
def metric_label(metric: str) -> str:
    """A promise's name: acknowledgement, correction, next reply, update."""
    return str(Metric(metric).label) if metric in Metric.values else metric


LATE_METRICS: dict[str, object] = {
    Metric.ACKNOWLEDGEMENT: gettext_lazy("late acknowledgement"),
    Metric.CORRECTION: gettext_lazy("late correction"),
    Metric.NEXT_REPLY: gettext_lazy("late reply"),
    Metric.UPDATE: gettext_lazy("late update"),
}


@register.filter
def rows_have(rows: list[TargetRow], metric: str) -> bool:
    """Whether any severity of a policy's rows has the optional promise (next reply, update)."""
    return rows_promise(rows, metric)


@register.filter
def late_metric(metric: str) -> str:
    """A missed promise, as the report lists it."""
    return str(LATE_METRICS.get(metric, metric))


CID_SRC_RE = re.compile(r'src="cid:([^"]+)"')
SHOWN_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


@register.filter
def mail_html(message: Message) -> SafeString:
    """A received mail's formatted original, sanitized again, its inline images pointing at
    their attachments (served through the access check); other cid: images are dropped."""
    images = {
        a.content_id: reverse("files:download", args=[a.key])
        for a in message.attachments.all()
        if a.content_id and a.content_type in SHOWN_IMAGE_TYPES
    }
    clean = sanitize_html(message.body_html)

    def point(match: re.Match[str]) -> str:
        url = images.get(html.unescape(match.group(1)))
        return f'src="{html.escape(url)}"' if url else 'src="" data-missing-image=""'

    return mark_safe(CID_SRC_RE.sub(point, clean))  # sanitized just above  # noqa: S308


@register.filter
def shown_images(message: Message) -> list[Attachment]:
    return [
        a for a in message.attachments.all() if a.inline and a.content_type in SHOWN_IMAGE_TYPES
    ]


@register.filter
def preview_kind(attachment: Attachment) -> str:
    """How a page shows a file: "image", "pdf", or "" (listed, to download)."""
    if attachment.content_type == "application/pdf":
        return "pdf"
    return "image" if attachment.content_type in SHOWN_IMAGE_TYPES else ""


@register.filter
def listed_files(message: Message) -> list[Attachment]:
    """Attached files, without the images already shown inside the mail."""
    shown = {a.pk for a in shown_images(message)} if message.body_html else set()
    return [a for a in message.attachments.all() if a.pk not in shown]


@register.filter
def mail_reason(reason: str) -> str:
    """Why a mail was held, in the reader's language (machine reasons stay technical)."""
    from tickets.channels.email.ingest import REASON_LABELS

    return str(REASON_LABELS.get(reason, reason))


# django-allauth's buttons: a form's submit is its main action unless allauth says otherwise
# (an alternative, a cancel, a destructive or a minor one), as on Pacte's own pages.
_NOT_MAIN = {"outline", "secondary", "minor", "cancel", "link", "danger", "delete", "tool"}


@register.filter
def allauth_button_class(attrs: Mapping[str, Any]) -> str:
    tags = set(attrs.get("tags") or ())
    main = "prominent" in tags or "primary" in tags or attrs.get("type") == "submit"
    classes = ["btn"]
    if main and not tags & _NOT_MAIN:
        classes.append("primary")
    if tags & {"danger", "delete"}:
        classes.append("danger")
    if "link" in tags:
        classes.append("link")
    return " ".join(classes)
