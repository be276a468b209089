"""Calendar snapshots kept by each process while their calendar is unchanged.

A snapshot is the frozen value the deadline arithmetic works on; it also fills, as it is used, a
table per year of the minutes open. Building it costs four queries (the calendar, its weekly
hours, closures and extra openings) and the tables are built again each time. The queue needs
one per calendar on every page, every ticket written needs its calendar's, and so does every
escalation: each process keeps them, by calendar and version.

The version is a column of the calendar, a new random value at each change that moves deadlines
(rules, hours, closures, extra openings; ``sla.clocks.recount.calendar_touch``), written in the
change's transaction: a process that reads the new version reads the new rows with it, in every
process, on every database; a version a rolled-back change wrote is never written again. A bulk
``QuerySet.update()`` of the rows bypasses it, as it bypasses the recount of running clocks; the
admin and the services never use one; nor does a ``bulk_create`` of a new calendar's hours
(the seeded calendars, tests), harmless while nothing reads the calendar in between.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from sla.clocks.selectors import calendar_snapshot
from sla.clocks.values import CalendarSnapshot
from sla.models import Calendar

_kept: dict[int, tuple[int, CalendarSnapshot]] = {}  # by calendar id: (version, snapshot)
_lock = threading.Lock()


def snapshot_of(calendar: Calendar) -> CalendarSnapshot:
    """The snapshot of a calendar row just read (its version with it): no query when kept."""
    kept = _kept.get(calendar.pk)
    if kept is not None and kept[0] == calendar.version:
        return kept[1]
    rows = Calendar.objects.prefetch_related("intervals", "closures", "extra_openings")
    fresh = rows.get(pk=calendar.pk)
    snapshot = calendar_snapshot(fresh)
    # Four statements: kept only if no change committed between the first and the last.
    if Calendar.objects.filter(pk=fresh.pk, version=fresh.version).exists():
        with _lock:
            _kept[fresh.pk] = (fresh.version, snapshot)
    return snapshot


def snapshots_by_id(ids: Iterable[int]) -> dict[int, CalendarSnapshot]:
    """Snapshots of the calendars `ids` (one query for their versions)."""
    calendars = Calendar.objects.filter(pk__in=set(ids)).only("pk", "version")
    return {calendar.pk: snapshot_of(calendar) for calendar in calendars}


def snapshot_by_id(calendar_id: int) -> CalendarSnapshot:
    snapshots = snapshots_by_id([calendar_id])
    if calendar_id not in snapshots:
        raise Calendar.DoesNotExist(f"no calendar {calendar_id}")
    return snapshots[calendar_id]
