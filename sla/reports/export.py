"""The SLA report as rows for a spreadsheet: the figures of each group, then every breach.

Durations are decimal hours and shares percentages with one decimal, in plain numbers that a
spreadsheet sums and sorts; the breaches stream from one query in chunks, so a year of them
never sits in memory."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import QuerySet

from sla.models import Clock
from sla.reports.figures import Report
from sla.reports.listings import Lateness
from tickets.models import Ticket

GROUP_HEADER: list[object] = [
    "severity",
    "metric",
    "clock kind",
    "clocks",
    "stopped",
    "met",
    "breached",
    "kept thanks to a downgrade",
    "met %",
    "mean (h)",
    "median (h)",
    "p90 (h)",
]
BREACH_HEADER: list[object] = [
    "ticket",
    "organization",
    "severity",
    "metric",
    "clock kind",
    "due",
    "late by (h)",
    "clock state",
]


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """A text cell a spreadsheet would run as a formula (=, +, -, @…) is kept as text with a
    leading apostrophe: names and subjects come from customers and strangers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def share_cell(value: Decimal | float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}"


def hours_cell(value: timedelta | None) -> str:
    """Hours with two decimals: a spreadsheet sums and sorts them."""
    return "" if value is None else f"{value.total_seconds() / 3600:.2f}"


def report_rows(
    report: Report, breaches: QuerySet[Clock], *, first_day: date, last_day: date, now: datetime
) -> Iterator[list[object]]:
    """The report's figures, one row per severity × metric × clock kind, then the breaches
    (`reports.breaches` of the same tickets), how late each is counted at ``now``."""
    yield ["period", first_day, last_day]
    yield ["tickets received", report.received]
    yield []
    yield GROUP_HEADER
    for g in report.groups:
        yield [
            g.severity,
            g.metric,
            g.kind,
            g.clocks,
            g.stopped,
            g.met,
            g.breached,
            g.spared,
            share_cell(g.met_share),
            hours_cell(g.mean),
            hours_cell(g.median),
            hours_cell(g.p90),
        ]  # fmt: skip
    yield []
    yield BREACH_HEADER
    yield from ([spreadsheet_safe(cell) for cell in row] for row in _breach_rows(breaches, now=now))


def _breach_rows(breaches: QuerySet[Clock], *, now: datetime) -> Iterator[list[object]]:
    rows = breaches.values_list(
        "ticket_id",
        "ticket__organization__name",
        "ticket__severity",
        "metric",
        "kind",
        "due_at",
        "elapsed_seconds",
        "target",
        "runs",
        "state",
        "ticket__desk__calendar_id",
        "ticket__calendar_id",
        named=True,
    )
    lateness = Lateness(now)
    for row in rows.iterator(chunk_size=5000):
        late = lateness.of(
            row.kind,
            row.target,
            row.elapsed_seconds,
            row.runs,
            row.ticket__calendar_id or row.ticket__desk__calendar_id,
        )
        yield [
            Ticket.reference_for(row.ticket_id),
            row.ticket__organization__name,
            row.ticket__severity,
            row.metric,
            row.kind,
            row.due_at.isoformat() if row.due_at else "",
            hours_cell(late),
            row.state,
        ]
