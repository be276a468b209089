"""Pure clock arithmetic over a clock's runs: counted time and the instant a target is reached.

A clock's history is a sequence of runs ``(start, end)``; the last may be open (end None)
while the clock runs. Pauses are the gaps between runs and never count.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sla.clocks.calendar import add, clock_start, counted_intervals, elapsed
from sla.clocks.values import CalendarSnapshot, ClockKind, Segment

Run = tuple[datetime, datetime | None]


# A pause's history note names its reason, when on hold: "reason:third_party".
PAUSE_NOTE = "reason:"


class GapReason(enum.StrEnum):
    """Why a clock did not count between its ticket's arrival and its first run, or between
    two runs (what the calendar closed is told by its own reasons, ``ClosedReason``)."""

    BEFORE_OPENING = "before opening"  # the ticket arrived outside open time
    WAITING_ON_CUSTOMER = "waiting on the customer"  # paused
    STOPPED = "stopped"  # stopped, then reopened


@dataclass(frozen=True)
class Deadlines:
    due_at: datetime | None
    warn_at: datetime | None
    escalate_at: datetime | None = None


def counted(
    cal: CalendarSnapshot, kind: ClockKind, runs: Sequence[Run], now: datetime
) -> timedelta:
    """Counted time of all runs up to ``now`` (an open run counts until ``now``)."""
    total = timedelta(0)
    for start, end in runs:
        stop = now if end is None else min(end, now)
        total += elapsed(cal, kind, start, stop)
    return total


def instant_reaching(
    cal: CalendarSnapshot, kind: ClockKind, runs: Sequence[Run], amount: timedelta
) -> datetime | None:
    """Earliest instant at which the runs have counted ``amount``; None if they stop before."""
    spent = timedelta(0)
    for start, end in runs:
        if end is None:
            return add(cal, kind, start, amount - spent)
        in_run = elapsed(cal, kind, start, end)
        if spent + in_run >= amount:
            return add(cal, kind, start, amount - spent)
        spent += in_run
    return None


def deadlines(
    cal: CalendarSnapshot,
    kind: ClockKind,
    runs: Sequence[Run],
    target: timedelta,
    warning_percent: int,
    escalation_percent: int = 150,
) -> Deadlines:
    """Warning, due and escalation instants of a clock (percentages of the target); None
    while it is paused short of them."""
    return Deadlines(
        due_at=instant_reaching(cal, kind, runs, target),
        warn_at=instant_reaching(cal, kind, runs, target * warning_percent / 100),
        escalate_at=instant_reaching(cal, kind, runs, target * escalation_percent / 100),
    )


def promised(
    cal: CalendarSnapshot, kind: ClockKind, received_at: datetime, target: timedelta
) -> datetime:
    """The due instant of a clock started at ``received_at`` and never paused."""
    start = clock_start(cal, kind, received_at)
    due = instant_reaching(cal, kind, [(start, None)], target)
    assert due is not None  # an open run always reaches its target (or raises NeverOpenError)
    return due


@dataclass(frozen=True)
class Explanation:
    """Why a deadline is where it is: every stretch of time since arrival, counted or not."""

    segments: tuple[Segment, ...]
    counted: timedelta
    target: timedelta
    due_at: datetime | None
    # A running clock's path on from now to its due instant, as the calendar will count it.
    ahead: tuple[Segment, ...] = ()


def explain(
    cal: CalendarSnapshot,
    kind: ClockKind,
    *,
    received_at: datetime,
    runs: Sequence[Run],
    gap_reasons: Sequence[str],
    target: timedelta,
    until: datetime,
) -> Explanation:
    """Segments from arrival to ``until``: the calendar's reasons inside runs, and
    ``gap_reasons[i]`` for the pause between run i and run i + 1 (e.g. waiting on the customer).
    Time before the first run (arrival outside open time) never counts."""
    segments: list[Segment] = []
    if runs and received_at < runs[0][0]:
        for piece in counted_intervals(cal, kind, received_at, min(runs[0][0], until)):
            reason = piece.reason if not piece.counted else GapReason.BEFORE_OPENING
            segments.append(
                Segment(piece.start, piece.end, False, reason or GapReason.BEFORE_OPENING)
            )
    for index, (start, end) in enumerate(runs):
        if start >= until:
            break
        stop = until if end is None else min(end, until)
        segments.extend(counted_intervals(cal, kind, start, stop))
        if end is not None and index + 1 < len(runs) and end < until:
            reason = gap_reasons[index] if index < len(gap_reasons) else ""
            gap_end = min(runs[index + 1][0], until)
            segments.append(
                Segment(end.astimezone(cal.tz), gap_end.astimezone(cal.tz), False, reason)
            )
    total = sum((s.end - s.start for s in segments if s.counted), timedelta(0))
    return Explanation(
        segments=tuple(segments),
        counted=total,
        target=target,
        due_at=instant_reaching(cal, kind, runs, target) if runs else None,
    )


def spared_by_downgrade(
    cal: CalendarSnapshot,
    received_at: datetime,
    runs: Sequence[Run],
    stopped_at: datetime,
    earlier: Sequence[tuple[str, ClockKind, timedelta]],
) -> str:
    """Of the severities a ticket was downgraded from (``earlier``: severity, kind and target
    of each, latest downgrade first), the first whose promise a clock met at ``stopped_at``
    would have missed: counted again on the same runs, from where that kind starts counting.
    "" when the clock would have met them all."""
    for severity, kind, target in earlier:
        old_runs = [(clock_start(cal, kind, received_at), runs[0][1]), *runs[1:]]
        due = instant_reaching(cal, kind, old_runs, target)
        if due is not None and due < stopped_at:
            return severity
    return ""
