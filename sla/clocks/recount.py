"""When a calendar's rules change under running clocks (SLA-RULES.md, "When the rules change
under a running clock"): every running or paused clock on the calendar is counted again from
its original start under the calendar as edited, keeping its pauses. A new due instant already
past is a breach as of that instant; a clock no longer late stops being late, and the levels
it already reached stay in its history without firing again. Stopped clocks keep their
outcome. Each moved deadline is written in the ticket's history with its cause.

An edit, in the admin, through a service or in a shell, writes a `CalendarChange` in its own
transaction (the signals below); after commit one batch applies every pending change of the
calendar (`calendar_clocks_recount`), and the sweep picks up a batch lost with its worker.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Field, Model, Q
from django.db.models.signals import post_delete, post_save, pre_save
from django.utils import formats, timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from sla.clocks.escalation import crossed_level
from sla.clocks.moves import due_note, from_original_start, refresh
from sla.clocks.selectors import calendar_snapshot_read, clock_runs
from sla.models import (
    Calendar,
    CalendarChange,
    Clock,
    Closure,
    EscalationLevel,
    ExtraOpening,
    OpeningInterval,
    Weekday,
)
from sla.models.calendars import calendar_version_new
from sla.notifications.services import notifications_cancel_warnings
from tickets.history import ticket_events_record
from tickets.models import Ticket, TicketEvent, User

NOTE_PREFIX = "calendar:"
_editor: ContextVar[User | None] = ContextVar("pacte_calendar_editor", default=None)
_RECOUNTED_FIELDS = [
    "started_at",
    "runs",
    "due_at",
    "warn_at",
    "escalate_at",
    "breached_at",
    "escalation_level",
    "cycle",
]


@contextmanager
def calendar_edited_by(user: User | None) -> Iterator[None]:
    """Name who edits calendars in this block (the admin wraps its views in it)."""
    token = _editor.set(user)
    try:
        yield
    finally:
        _editor.reset(token)


def _minutes(value: int) -> str:
    return f"{value // 60:02d}:{value % 60:02d}"


def _detail(instance: Model, action: str) -> dict[str, Any]:
    if isinstance(instance, OpeningInterval):
        return {"what": "hours", "action": action, "weekday": instance.weekday,
                "from": _minutes(instance.start_minute),
                "to": _minutes(instance.end_minute)}  # fmt: skip
    if isinstance(instance, Closure):
        return {"what": "closure", "action": action, "label": instance.label,
                "start": instance.start.isoformat(), "end": instance.end.isoformat()}  # fmt: skip
    if isinstance(instance, ExtraOpening):
        return {"what": "extra_opening", "action": action, "label": instance.label,
                "day": instance.day.isoformat(), "from": _minutes(instance.start_minute),
                "to": _minutes(instance.end_minute)}  # fmt: skip
    assert isinstance(instance, Calendar)
    return {"what": "rules", "action": action, "time_zone": instance.time_zone,
            "country": instance.holiday_country,
            "subdivision": instance.holiday_subdivision}  # fmt: skip


def calendar_touch(calendar_id: int) -> None:
    """A new version of the calendar: every process reads its rows again (clocks.snapshots)."""
    Calendar.objects.filter(pk=calendar_id).update(version=calendar_version_new())


def calendar_change_record(calendar_id: int, detail: dict[str, Any]) -> None:
    """Write the change in the current transaction; recount the clocks after commit."""
    from sla.tasks import calendar_clocks_recount_task  # tasks import the services

    calendar_touch(calendar_id)
    actor = _editor.get()
    if actor is not None:
        detail["by"] = actor.get_full_name() or actor.get_username()
    CalendarChange.objects.create(
        calendar_id=calendar_id, detail=detail, actor=actor, created_at=timezone.now()
    )
    transaction.on_commit(lambda: calendar_clocks_recount_task.delay(calendar_id))


def _row_saved(sender: type[Model], instance: Any, created: bool, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        calendar_touch(instance.calendar_id)  # loaddata: no history, but no stale snapshot
        return
    action = "added" if created else "changed"
    calendar_change_record(instance.calendar_id, _detail(instance, action))


def _row_deleted(sender: type[Model], instance: Any, origin: Any = None, **kwargs: Any) -> None:
    if isinstance(origin, Calendar) or (
        hasattr(origin, "model") and origin.model is Calendar
    ):  # the calendar itself is deleted: no clock runs on it (desks protect theirs)
        return
    calendar_change_record(instance.calendar_id, _detail(instance, "removed"))


def _calendar_before_save(sender: type[Model], instance: Calendar, **kwargs: Any) -> None:
    stored = Calendar.objects.filter(pk=instance.pk).values(
        "time_zone", "holiday_country", "holiday_subdivision", "version"
    ).first() if instance.pk else None  # fmt: skip
    old = None
    if stored is not None:
        # Every save of a calendar takes a version never seen: an instance read before another
        # change (or a fixture) never writes an older one back, even racing that change.
        instance.version = calendar_version_new()
        old = {k: stored[k] for k in ("time_zone", "holiday_country", "holiday_subdivision")}
    instance._rules_before = old  # type: ignore[attr-defined]  # read by _calendar_saved


def _calendar_saved(sender: type[Model], instance: Calendar, created: bool, **kwargs: Any) -> None:
    old = getattr(instance, "_rules_before", None)
    now = {k: getattr(instance, k) for k in ("time_zone", "holiday_country", "holiday_subdivision")}
    if not created and not kwargs.get("raw") and old is not None and old != now:
        calendar_change_record(instance.pk, _detail(instance, "changed"))


def connect_signals() -> None:
    for model in (OpeningInterval, Closure, ExtraOpening):
        post_save.connect(_row_saved, sender=model, dispatch_uid=f"pacte.recount.{model.__name__}")
        post_delete.connect(
            _row_deleted, sender=model, dispatch_uid=f"pacte.recount.del.{model.__name__}"
        )
    pre_save.connect(_calendar_before_save, sender=Calendar, dispatch_uid="pacte.recount.cal0")
    post_save.connect(_calendar_saved, sender=Calendar, dispatch_uid="pacte.recount.cal")


def _stored(clock: Clock) -> tuple[object, ...]:
    """What a recount may change, compared by value (runs as instants, not as text)."""
    return (*(getattr(clock, name) for name in _RECOUNTED_FIELDS if name != "runs"),
            clock_runs(clock))  # fmt: skip


def _recount(clock: Clock, cal: Any, at: datetime) -> tuple[bool, bool]:
    """Count one clock again; (anything stored changed, its level went down)."""
    before = _stored(clock)
    runs = from_original_start(clock, cal)
    clock.breached_at = None
    refresh(clock, cal, runs, at)
    # Levels already reached and still behind the new instants stay handled; a level the new
    # instants put back in the future may fire again, once, in a new cycle.
    level = EscalationLevel(min(clock.escalation_level, crossed_level(clock, at)))
    lowered = level < clock.escalation_level
    clock.escalation_level = level
    changed = _stored(clock) != before
    if changed:
        # A new cycle: an escalation that read the old instants no longer claims this clock
        # (it matches the cycle), and nothing already fired fires again (the level stays).
        clock.cycle += 1
    return changed, lowered


def _rows_update(model: type[Model], rows: list[Any], fields: list[str]) -> None:
    """UPDATE each row's fields by primary key, in one prepared statement run many times:
    Django's bulk_update builds a CASE per field and row, ten times slower at 10,000 rows."""
    if not rows:
        return
    meta = model._meta
    columns = [field for name in fields if isinstance(field := meta.get_field(name), Field)]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in columns)
    key = quote(meta.pk.column) if meta.pk else "id"
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {key} = %s"
    params = [
        [field.get_db_prep_save(getattr(row, field.attname), connection) for field in columns]
        + [row.pk]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _clocks_locked(calendar_id: int) -> list[Clock]:
    """The calendar's running and paused clocks, locked as the ticket services lock them:
    their tickets first (in order), then the clocks; a ticket write waits, or is waited for,
    never both."""
    on_calendar = Q(ticket__calendar_id=calendar_id) | Q(
        ticket__calendar__isnull=True, ticket__desk__calendar_id=calendar_id
    )
    open_clocks = Clock.objects.filter(on_calendar).exclude(state=Clock.State.STOPPED)
    ticket_ids = sorted(set(open_clocks.values_list("ticket_id", flat=True)))
    list(Ticket.objects.select_for_update().filter(pk__in=ticket_ids).order_by("pk").values("pk"))
    return list(
        Clock.objects.select_for_update(of=("self",))
        .filter(on_calendar)
        .exclude(state=Clock.State.STOPPED)
        .select_related("ticket")
        .order_by("pk")
    )


def calendar_clocks_recount(
    *, calendar_id: int, at: datetime | None = None, settle: bool = False
) -> int:
    """Apply the calendar's pending changes to its running and paused clocks, in one
    transaction; the number of deadlines moved. `settle`: count them again even with no
    change pending, under the last changes applied (a ticket written in a transaction that
    read the calendar before the edit committed, invisible to the first batch)."""
    at = at or timezone.now()
    with transaction.atomic():
        changes = list(
            CalendarChange.objects.select_for_update()
            .filter(calendar_id=calendar_id, applied_at=None)
            .order_by("pk")
        )
        if not changes and settle:
            changes = list(
                CalendarChange.objects.filter(calendar_id=calendar_id).order_by("-pk")[:1]
            )
        if not changes:
            return 0
        cal = calendar_snapshot_read(calendar_id)  # its rows as committed, never a kept one
        clocks = _clocks_locked(calendar_id)
        note = NOTE_PREFIX + json.dumps([c.detail for c in changes], sort_keys=True)
        changed, events = [], []
        for clock in clocks:
            due_before = due_note(clock)
            moved, lowered = _recount(clock, cal, at)
            if lowered:  # its warnings not mailed yet warn of instants that moved away
                notifications_cancel_warnings(clock=clock)
            if not moved:
                continue
            changed.append(clock)
            if due_note(clock) != due_before:
                events.append(TicketEvent(
                    ticket_id=clock.ticket_id, actor=changes[-1].actor,
                    kind=TicketEvent.Kind.CLOCK, field=clock.metric, before=due_before,
                    after=due_note(clock), note=note, created_at=at,
                ))  # fmt: skip
        _rows_update(Clock, changed, _RECOUNTED_FIELDS)
        ticket_events_record(events) if events else None
        _nearest_deadlines(clocks)
        CalendarChange.objects.filter(pk__in=[c.pk for c in changes], applied_at=None).update(
            applied_at=at
        )
    return len(events)


def _nearest_deadlines(clocks: list[Clock]) -> None:
    """Each ticket's nearest running deadline, which orders the queue."""
    nearest: dict[int, datetime | None] = {}
    tickets: dict[int, Ticket] = {}
    for clock in clocks:
        tickets[clock.ticket_id] = clock.ticket
        nearest.setdefault(clock.ticket_id, None)
        if clock.state == Clock.State.RUNNING and clock.due_at is not None:
            current = nearest[clock.ticket_id]
            nearest[clock.ticket_id] = min(clock.due_at, current) if current else clock.due_at
    moved = []
    for ticket_id, due in nearest.items():
        if tickets[ticket_id].sla_due_at != due:
            tickets[ticket_id].sla_due_at = due
            moved.append(tickets[ticket_id])
    _rows_update(Ticket, moved, ["sla_due_at"])


def calendars_pending() -> list[int]:
    """Calendars with changes not yet applied (for the sweep)."""
    return list(
        CalendarChange.objects.filter(applied_at=None)
        .values_list("calendar_id", flat=True)
        .distinct()
        .order_by("calendar_id")
    )


def _day(text: str) -> str:
    day = parse_date(text)
    return formats.date_format(day, "DATE_FORMAT") if day else text


def calendar_change_text(note: str) -> str:
    """A history note's calendar changes, in the reader's language."""
    try:
        details = json.loads(note.removeprefix(NOTE_PREFIX))
    except ValueError:
        return ""
    return "; ".join(_one_change_text(detail) for detail in details)


def _change_sentences() -> dict[tuple[str, str], str]:
    return {
        ("closure", "added"): _("closure %(label)s, %(start)s – %(end)s, added"),
        ("closure", "changed"): _("closure %(label)s changed to %(start)s – %(end)s"),
        ("closure", "removed"): _("closure %(label)s, %(start)s – %(end)s, removed"),
        ("extra_opening", "added"): _("extra opening %(label)s, %(day)s %(from)s–%(to)s, added"),
        ("extra_opening", "changed"): _("extra opening %(label)s changed to %(day)s "
                                        "%(from)s–%(to)s"),
        ("extra_opening", "removed"): _("extra opening %(label)s, %(day)s %(from)s–%(to)s, "
                                        "removed"),
        ("hours", "added"): _("opening hours %(weekday)s %(from)s–%(to)s added"),
        ("hours", "changed"): _("opening hours changed to %(weekday)s %(from)s–%(to)s"),
        ("hours", "removed"): _("opening hours %(weekday)s %(from)s–%(to)s removed"),
        ("rules", "changed"): _("time zone and public holidays changed to %(time_zone)s, "
                                "%(holidays)s"),
    }  # fmt: skip


def _one_change_text(detail: dict[str, Any]) -> str:
    sentence = _change_sentences().get((detail.get("what", ""), detail.get("action", "")))
    if sentence is None:
        return _("calendar changed")
    values = {
        **detail,
        "start": _day(detail.get("start", "")),
        "end": _day(detail.get("end", "")),
        "day": _day(detail.get("day", "")),
        "weekday": Weekday(detail["weekday"]).label if "weekday" in detail else "",
        "holidays": " ".join(p for p in (detail.get("country"), detail.get("subdivision")) if p)
        or "—",
    }
    text = sentence % values
    if detail.get("by"):
        text = _("%(change)s by %(who)s") % {"change": text, "who": detail["by"]}
    return text
