"""Availability arithmetic (sla/availability/arithmetic.py), table-driven, no database: the
formulas of SLA-RULES.md, announced and unannounced maintenance, overlaps, open outages, DST
months, and the yearly error budgets the SLA documents imply."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from sla.availability.arithmetic import (
    Maintenance,
    Outage,
    availability,
    error_budget,
    merge,
    month_bounds,
    subtract,
    year_bounds,
)

BERLIN = ZoneInfo("Europe/Berlin")
DAY = datetime(2026, 6, 1, tzinfo=UTC)
H = timedelta(hours=1)


def at(hours: float) -> datetime:
    return DAY + timedelta(hours=hours)


def measure(outages: list[Outage], maintenance: list[Maintenance] = (), now: float = 48):  # type: ignore[assignment, no-untyped-def]
    return availability(
        start=at(0), end=at(24), outages=outages, maintenance=maintenance, now=at(now)
    )


@pytest.mark.parametrize(
    ("outages", "maintenance", "downtime", "planned", "ratio"),
    [
        ([], [], 0, 0, Decimal(1)),
        ([Outage(at(1), at(2.2))], [], 1.2, 0, 1 - Decimal("1.2") / 24),
        # overlapping outages count once
        ([Outage(at(1), at(3)), Outage(at(2), at(4))], [], 3, 0, 1 - Decimal(3) / 24),
        # clipped to the period
        ([Outage(at(-2), at(1)), Outage(at(23), at(30))], [], 2, 0, 1 - Decimal(2) / 24),
        # an announced window is planned: out of the denominator, and an outage inside is not down
        (
            [Outage(at(10), at(12))],
            [Maintenance(at(-24), at(11), at(13))],
            1,
            2,
            1 - Decimal(1) / 22,
        ),
        # announced after it began: not planned, the outage counts whole
        (
            [Outage(at(10), at(12))],
            [Maintenance(at(10.5), at(10), at(13))],
            2,
            0,
            1 - Decimal(2) / 24,
        ),
        # maintenance without an outage: only the denominator shrinks
        ([], [Maintenance(at(-1), at(0), at(4))], 0, 4, Decimal(1)),
    ],
)
def test_measured_availability(
    outages: list[Outage],
    maintenance: list[Maintenance],
    downtime: float,
    planned: float,
    ratio: Decimal,
) -> None:
    figures = measure(outages, maintenance)
    assert figures.downtime == downtime * H
    assert figures.planned == planned * H
    assert figures.ratio is not None and abs(figures.ratio - ratio) < Decimal("1e-12")


def test_an_open_outage_and_an_unfinished_period_count_up_to_now() -> None:
    figures = measure([Outage(at(5), None)], now=8)
    assert figures.end == at(8) and figures.downtime == 3 * H
    assert figures.ratio == 1 - Decimal(3) / 8


def test_a_period_not_begun_or_all_planned_has_no_figure() -> None:
    assert measure([], now=-1).ratio is None
    assert measure([], [Maintenance(at(-1), at(0), at(24))]).ratio is None


def test_a_month_with_a_dst_change_is_measured_in_real_time() -> None:
    start, end = month_bounds(2026, 3, BERLIN)
    assert (start, end) == (
        datetime(2026, 3, 1, tzinfo=BERLIN),
        datetime(2026, 4, 1, tzinfo=BERLIN),
    )
    outage = Outage(
        datetime(2026, 3, 10, 12, tzinfo=BERLIN), datetime(2026, 3, 10, 13, tzinfo=BERLIN)
    )
    figures = availability(start=start, end=end, outages=[outage], maintenance=[], now=end + H)
    assert figures.measured == timedelta(days=31) - H  # the clocks went forward on the 29th
    assert month_bounds(2026, 12, BERLIN)[1] == datetime(2027, 1, 1, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("commitment", "year", "allowed"),
    [
        # SLA-RULES.md: 99.5 % allows 43 h 48 min a year (non-leap), 99.8 % 17 h 31 min 12 s.
        ("99.5", 2026, timedelta(hours=43, minutes=48)),
        ("99.8", 2026, timedelta(hours=17, minutes=31, seconds=12)),
        ("99.5", 2028, timedelta(hours=43, minutes=55, seconds=12)),  # leap year
        ("100", 2026, timedelta(0)),
    ],
)
def test_yearly_error_budget(commitment: str, year: int, allowed: timedelta) -> None:
    budget = error_budget(
        commitment_percent=Decimal(commitment), year=year, zone=BERLIN, downtime=5 * H
    )
    assert budget.allowed == allowed and budget.used == 5 * H
    assert budget.left == allowed - 5 * H


def test_budget_left_as_a_share() -> None:
    budget = error_budget(
        commitment_percent=Decimal("99.8"), year=2026, zone=BERLIN, downtime=timedelta(0)
    )
    assert budget.left_ratio == 1
    spent = error_budget(
        commitment_percent=Decimal("99.8"), year=2026, zone=BERLIN, downtime=20 * H
    )
    assert spent.left < timedelta(0) and spent.left_ratio == 0


def test_span_helpers() -> None:
    assert merge([(at(3), at(4)), (at(1), at(2)), (at(2), at(3)), (at(5), at(5))]) == [
        (at(1), at(4))
    ]
    assert subtract([(at(0), at(10))], [(at(2), at(3)), (at(5), at(12))]) == [
        (at(0), at(2)),
        (at(3), at(5)),
    ]
    assert year_bounds(2026, UTC) == (
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    )
    with pytest.raises(ValueError, match="aware"):
        availability(start=datetime(2026, 1, 1), end=at(1), outages=[], maintenance=[], now=at(1))  # noqa: DTZ001
