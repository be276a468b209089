"""Deadlines per second: Pacte's sla.clocks.calendar beside the businesstimedelta package.

    .venv/bin/python bench/deadlines.py [--starts 400] [--seed 2026] [--rounds 9]

Pure computation: no Django, no database. For a fixed set of arrival instants (seeded random
over 2026-2027, inside and outside opening hours) on the seeded `europe` calendar
(Europe/Berlin, Mon-Thu 09:00-17:00, Fri 09:00-16:00, public holidays of North
Rhine-Westphalia), both libraries compute the due instant of +5 and +40 business hours and
+5 and +20 business days. Pacte's figure is `add(clock_start(arrival), amount)` from
sla.clocks.calendar, as `sla.clocks.deadlines.promised` computes it when a ticket arrives.
Each row is timed with `time.perf_counter` over every start, repeated until a round lasts
`--min-round` seconds; rounds take turns between rows, the best round counts, garbage
collector off (as `timeit` does). Every deadline of one library is compared with the
other's. Exits 1 when they disagree or a goal is missed: at least 50x businesstimedelta's
throughput on every row, and +20 business days at most 3x the cost of +5 business hours.

The rows time Pacte with its per-year tables warm, as a running desk has them; a last line
prints the cost of a first deadline on a calendar never seen, tables built then.

businesstimedelta (a dev dependency only) gets the same schedule and holidays: `WorkDayRule`s
for Mon-Thu and Fri, a `HolidayRule` with `holidays.Germany(subdiv="NW")`, all with the pytz
zone (without one it silently works in UTC). Business days need care, see `BTD_DAYS_NOTE`.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from importlib import metadata
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT, HERE = Path(__file__).resolve().parents[1], Path(__file__).resolve().parent
# The project's root first, and not this folder: scripts import `bench.…` and the project.
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != HERE)]

import holidays  # noqa: E402
import pytz  # noqa: E402
from businesstimedelta import BusinessTimeDelta, HolidayRule, Rules, WorkDayRule  # noqa: E402

from sla.clocks.calendar import add, clock_start, is_open  # noqa: E402
from sla.clocks.values import CalendarSnapshot, ClockKind, Closure  # noqa: E402
from sla.defaults import CALENDARS  # noqa: E402

SPEED_UP_GOAL = 50.0
RATIO_GOAL = 3.0
FIRST_DAY, LAST_DAY = date(2026, 1, 1), date(2027, 12, 31)  # of the starts
RULE_YEARS = range(2026, 2029)  # the starts' years and the next, where deadlines land
BTD_DAYS_NOTE = """\
business days: Pacte counts all 24 hours of each business day (SLA-RULES.md), after moving an
  arrival outside open time to the next opening. businesstimedelta has no such clock, and its
  WorkDayRule cannot end a working day at midnight: an overnight rule is skipped once its start
  has passed (rules 00:00-12:00 plus 12:00-00:00, asked at Monday 15:00, answer Tuesday 00:00),
  and with a rule from 00:00 to 00:00 `Rules.next` never returns. So the same clock is built
  from its own parts: the next opening from the business-hours rules (`rules.next(arrival)`),
  then a HolidayRule turned into working time (`time_off=False`) over the dates that have
  weekly hours, minus the same HolidayRule of public holidays; N business days = N x 24
  business hours of that rule. Same semantics, so the deadlines must be identical. "N x 8
  business hours" would not be: Friday has 7 hours, and Friday 15:00 + 1 business day is
  Monday 15:00, while Friday 15:00 + 8 business hours is Monday 16:00."""


@dataclass(frozen=True)
class Row:
    name: str
    kind: ClockKind
    amount: timedelta


ROWS = [
    Row("+5 business hours", ClockKind.BUSINESS_HOURS, timedelta(hours=5)),
    Row("+40 business hours", ClockKind.BUSINESS_HOURS, timedelta(hours=40)),
    Row("+5 business days", ClockKind.BUSINESS_DAYS, timedelta(days=5)),
    Row("+20 business days", ClockKind.BUSINESS_DAYS, timedelta(days=20)),
]


@dataclass
class Result:
    row: Row
    pacte_us: float
    btd_us: float
    pacte_spread: float  # median / best over the rounds
    btd_spread: float
    agree: int
    disagree: list[tuple[datetime, datetime, datetime]]


def europe() -> CalendarSnapshot:
    """The seeded `europe` calendar, from the rows sla.defaults writes to the database."""
    _, _, time_zone, (country, subdivision), hours = next(c for c in CALENDARS if c[0] == "europe")
    return CalendarSnapshot(
        time_zone=time_zone,
        weekly=tuple(tuple((s, e) for d, s, e in hours if d == weekday) for weekday in range(7)),
        holiday_country=country,
        holiday_subdivision=subdivision,
    )


def btd_rules(cal: CalendarSnapshot) -> tuple[Rules, Rules]:
    """businesstimedelta rules for business hours and for 24-hour business days of `cal`."""
    tz = pytz.timezone(cal.time_zone)
    public = holidays.Germany(subdiv=cal.holiday_subdivision, years=RULE_YEARS)
    by_hours: dict[tuple[int, int], list[int]] = {}
    for weekday, intervals in enumerate(cal.weekly):
        for start, end in intervals:
            by_hours.setdefault((start, end), []).append(weekday)
    work = [
        WorkDayRule(minute_time(start), minute_time(end), weekdays, tz=tz)
        for (start, end), weekdays in by_hours.items()
    ]
    hours = Rules([*work, HolidayRule(public, tz=tz)], tz=tz)
    first = date(RULE_YEARS[0], 1, 1)
    dates = (first + timedelta(days=i) for i in range(366 * len(RULE_YEARS)))
    with_hours = {day for day in dates if cal.weekly[day.weekday()]}
    days = Rules([HolidayRule(with_hours, tz=tz, time_off=False), HolidayRule(public, tz=tz)])
    return hours, days


def minute_time(minute: int) -> clock:
    return clock(minute // 60, minute % 60)


def starts(cal: CalendarSnapshot, count: int, seed: int) -> list[datetime]:
    """Arrivals in UTC: half anywhere, three eighths in open time, the rest on an edge."""
    rng = random.Random(seed)
    tz = ZoneInfo(cal.time_zone)
    span = (LAST_DAY - FIRST_DAY).days + 1
    found: list[datetime] = []
    while len(found) < count:
        day = FIRST_DAY + timedelta(days=rng.randrange(span))
        intervals = cal.weekly[day.weekday()]
        share = len(found) / count
        if share < 0.5:
            local = datetime.combine(day, clock(), tz) + timedelta(seconds=rng.randrange(86400))
        elif not intervals:
            continue
        elif share < 0.875:  # in opening hours (a holiday's may still be closed)
            start, end = rng.choice(intervals)
            local = datetime.combine(day, minute_time(start), tz)
            local += timedelta(seconds=rng.randrange((end - start) * 60))
        else:  # exactly at an opening or a closing
            local = datetime.combine(day, minute_time(rng.choice(rng.choice(intervals))), tz)
        found.append(local.astimezone(UTC))
    return found


@dataclass
class Timing:
    """Seconds per call of `call` over whole passes over the inputs, one figure per round."""

    call: Callable[[datetime], datetime]
    passes: int = 1
    per_op: list[float] = field(default_factory=list)

    def size(self, inputs: list[datetime], min_round: float) -> None:
        """A warm-up pass, which also sets the passes a round takes to last `min_round`."""
        began = time.perf_counter()
        for value in inputs:
            self.call(value)
        self.passes = max(1, math.ceil(min_round / (time.perf_counter() - began)))

    def round(self, inputs: list[datetime]) -> None:
        call = self.call
        gc.disable()
        try:
            began = time.perf_counter()
            for _ in range(self.passes):
                for value in inputs:
                    call(value)
            self.per_op.append((time.perf_counter() - began) / (self.passes * len(inputs)))
        finally:
            gc.enable()


def machine_facts() -> list[str]:
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if "model name" in line)
    except (OSError, StopIteration):
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    versions = ", ".join(
        f"{name} {metadata.version(name)}" for name in ("businesstimedelta", "holidays", "pytz")
    )
    return [
        f"date      {datetime.now(UTC).astimezone():%Y-%m-%d %H:%M %Z}",
        f"machine   {cpu}, {os.cpu_count()} cores ({usable} usable), {platform.platform()}",
        f"python    {platform.python_implementation()} {platform.python_version()}; {versions}",
        f"load      {load()} (1, 5, 15 min) before measuring",
    ]


def load() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def show(value: datetime, tz: ZoneInfo) -> str:
    return value.astimezone(tz).strftime("%a %Y-%m-%d %H:%M:%S%z")


def measure(args: argparse.Namespace) -> list[Result]:
    cal = europe()
    hours_rules, days_rules = btd_rules(cal)
    inputs = starts(cal, args.starts, args.seed)
    inside = sum(is_open(cal, value) for value in inputs)
    print(
        f"starts    {len(inputs)} arrivals (seed {args.seed}) from {min(inputs):%Y-%m-%d} to "
        f"{max(inputs):%Y-%m-%d}: {inside} in open time, {len(inputs) - inside} outside it"
    )
    timings: list[tuple[Row, Timing, Timing, int, list[tuple[datetime, datetime, datetime]]]] = []
    for row in ROWS:

        def pacte(received: datetime, row: Row = row) -> datetime:
            return add(cal, row.kind, clock_start(cal, row.kind, received), row.amount)

        if row.kind is ClockKind.BUSINESS_HOURS:
            delta = BusinessTimeDelta(hours_rules, timedelta=row.amount)

            def btd(received: datetime, delta: BusinessTimeDelta = delta) -> datetime:
                return delta + received

        else:
            delta = BusinessTimeDelta(days_rules, timedelta=row.amount)

            def btd(received: datetime, delta: BusinessTimeDelta = delta) -> datetime:
                return delta + hours_rules.next(received)[0]

        agree, disagree = 0, []
        for received in inputs:
            ours, theirs = pacte(received), btd(received)
            if ours.astimezone(UTC) == theirs.astimezone(UTC):
                agree += 1
            else:
                disagree.append((received, ours, theirs))
        ours_timing, their_timing = Timing(pacte), Timing(btd)
        ours_timing.size(inputs, args.min_round)
        their_timing.size(inputs, args.min_round)
        timings.append((row, ours_timing, their_timing, agree, disagree))
    # Rounds take turns between rows, so that a busy moment of the machine hits every row.
    for index in range(max(args.rounds, args.btd_rounds)):
        for _, ours_timing, their_timing, _, _ in timings:
            if index < args.rounds:
                ours_timing.round(inputs)
            if index < args.btd_rounds:
                their_timing.round(inputs)
        print(f"round {index + 1}  done (load {load()})", flush=True)
    return [
        Result(
            row,
            pacte_us=min(ours.per_op) * 1e6,
            btd_us=min(theirs.per_op) * 1e6,
            pacte_spread=statistics.median(ours.per_op) / min(ours.per_op),
            btd_spread=statistics.median(theirs.per_op) / min(theirs.per_op),
            agree=agree,
            disagree=disagree,
        )
        for row, ours, theirs, agree, disagree in timings
    ]


def cold_start(inputs: list[datetime], samples: int = 25) -> list[tuple[str, float]]:
    """Milliseconds of a first deadline on a calendar not seen before (median of `samples`).

    Pacte answers from per-year tables of each calendar, built on first use and shared by
    equal snapshots; the rows above time them warm, as a running desk uses them. A snapshot
    with a closure label of its own is a calendar never seen, with the same deadlines."""
    figures = []
    for row in (ROWS[0], ROWS[-1]):
        times = []
        for sample in range(samples):
            fresh = replace(
                europe(), closures=(Closure(date(1990, 1, 1), date(1990, 1, 1), f"{sample}"),)
            )
            began = time.perf_counter()
            add(
                fresh,
                row.kind,
                clock_start(fresh, row.kind, inputs[sample % len(inputs)]),
                row.amount,
            )
            times.append(time.perf_counter() - began)
        figures.append((row.name, statistics.median(times) * 1e3))
    return figures


def report(results: list[Result], tz: ZoneInfo) -> bool:
    header = (
        f"{'row':<20}{'Pacte µs/op':>12}{'ops/s':>10}{'btd µs/op':>12}{'ops/s':>8}"
        f"{'speed-up':>10}{'same deadline':>15}"
    )
    print(f"\n{header}\n{'-' * len(header)}")
    for r in results:
        same = f"{r.agree}/{r.agree + len(r.disagree)}"
        print(
            f"{r.row.name:<20}{r.pacte_us:>12.1f}{1e6 / r.pacte_us:>10,.0f}{r.btd_us:>12.1f}"
            f"{1e6 / r.btd_us:>8,.0f}{r.btd_us / r.pacte_us:>9.1f}x{same:>15}"
        )
    print(
        "(best of the rounds; median/best: Pacte "
        + ", ".join(f"{r.pacte_spread:.2f}" for r in results)
        + "; btd "
        + ", ".join(f"{r.btd_spread:.2f}" for r in results)
        + ")"
    )
    cost = {r.row.name: r.pacte_us for r in results}
    ratio = cost["+20 business days"] / cost["+5 business hours"]
    slowest = min(results, key=lambda r: r.btd_us / r.pacte_us)
    speed_ok = slowest.btd_us / slowest.pacte_us >= SPEED_UP_GOAL
    ratio_ok = ratio <= RATIO_GOAL
    print(
        f"\nPacte +20 business days / +5 business hours cost: {ratio:.2f} "
        f"(goal <= {RATIO_GOAL:.0f}): {'met' if ratio_ok else 'MISSED'}"
    )
    print(
        f"speed-up >= {SPEED_UP_GOAL:.0f}x on every row: {'met' if speed_ok else 'MISSED'} "
        f"(lowest {slowest.btd_us / slowest.pacte_us:.1f}x, {slowest.row.name})"
    )
    print(f"\n{BTD_DAYS_NOTE}")

    same_ok = all(not r.disagree for r in results)
    for r in results:
        if r.disagree:
            print(f"\n{r.row.name}: {len(r.disagree)} different deadlines, for example")
            for received, ours, theirs in r.disagree[:5]:
                print(
                    f"  arrival {show(received, tz)}: Pacte {show(ours, tz)}, "
                    f"businesstimedelta {show(theirs, tz)}"
                )
    print(
        "\nsame deadlines: "
        + ("all" if same_ok else "NO")
        + f" ({sum(r.agree for r in results)} of "
        + f"{sum(r.agree + len(r.disagree) for r in results)} compared)"
    )
    return speed_ok and ratio_ok and same_ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--starts", type=int, default=400, help="arrival instants (400)")
    parser.add_argument("--seed", type=int, default=2026, help="of the arrival instants (2026)")
    parser.add_argument("--rounds", type=int, default=9, help="timed rounds for Pacte (9)")
    parser.add_argument("--btd-rounds", type=int, default=5, help="for businesstimedelta (5)")
    parser.add_argument("--min-round", type=float, default=0.3, help="seconds a round lasts")
    args = parser.parse_args()
    print("\n".join(machine_facts()))
    results = measure(args)
    print(f"load      {load()} after measuring")
    cold = cold_start(starts(europe(), args.starts, args.seed))
    print(
        "cold      first deadline on a calendar never seen (year tables built then): "
        + ", ".join(f"{name} {ms:.2f} ms" for name, ms in cold)
    )
    return 0 if report(results, ZoneInfo(europe().time_zone)) else 1


if __name__ == "__main__":
    sys.exit(main())
