"""Print the deadlines a calendar and a policy promise for an arrival time, as JSON.

    manage.py sla_deadline --calendar europe --at 2026-06-05T11:00:00+02:00 --severity blocking
    manage.py sla_deadline --calendar europe --at 2026-06-05T11:00:00+02:00 \\
        --clock business_hours --hours 5
"""

from __future__ import annotations

import json
import math
import sys
from argparse import ArgumentParser
from datetime import datetime, timedelta
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_datetime

from sla.clocks.deadlines import promised
from sla.clocks.selectors import calendar_snapshot_by_slug, policy_targets
from sla.clocks.values import ClockKind, NeverOpenError
from sla.models import Calendar, Metric
from tickets.models import Severity

USAGE_ERROR = 2


def _fail(message: str) -> NoReturn:
    raise CommandError(message, returncode=USAGE_ERROR)


class Command(BaseCommand):
    help = "Print the acknowledgement and correction deadlines (or one clock's) as JSON."

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)

        def one_line_error(message: str) -> NoReturn:
            # argparse would print the whole usage too: one line and status 2 instead.
            if not parser.called_from_command_line:
                _fail(message)
            sys.stderr.write(f"sla_deadline: error: {message}\n")
            sys.exit(USAGE_ERROR)

        parser.error = one_line_error  # type: ignore[method-assign]  # on purpose, one instance
        return parser

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--calendar", required=True, help="calendar slug, e.g. europe")
        parser.add_argument(
            "--at", required=True, help="arrival instant, ISO 8601 with a UTC offset"
        )
        what = parser.add_mutually_exclusive_group(required=True)
        what.add_argument("--severity", choices=Severity.values)
        what.add_argument(
            "--clock", choices=[kind.value for kind in ClockKind], help="a clock kind, with --hours"
        )
        parser.add_argument("--policy", default="standard", help="policy slug (with --severity)")
        parser.add_argument(
            "--hours", type=float, help="amount with --clock (business days count 24 h each)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        at = self._instant(options["at"])
        try:
            cal = calendar_snapshot_by_slug(options["calendar"])
        except Calendar.DoesNotExist:
            _fail(f"unknown calendar: {options['calendar']}")
        try:
            if options["severity"]:
                if options["hours"] is not None:
                    _fail("--hours goes with --clock, not --severity")
                answer = self._for_severity(cal, at, options["severity"], options["policy"])
            else:
                hours = options["hours"]
                if hours is None or not math.isfinite(hours) or hours < 0:
                    _fail("--clock needs --hours, a number of hours that is not negative")
                due = promised(cal, ClockKind(options["clock"]), at, timedelta(hours=hours))
                answer = {"due": due.isoformat()}
        except NeverOpenError as error:
            _fail(str(error))
        except OverflowError:
            _fail("the deadline falls outside the dates this machine can represent")
        self.stdout.write(json.dumps(answer))

    @staticmethod
    def _instant(value: str) -> datetime:
        try:
            at = parse_datetime(value)
        except ValueError:
            at = None
        if at is None:
            _fail(f"--at is not an ISO 8601 date and time: {value}")
        if at.tzinfo is None or at.utcoffset() is None:
            _fail(f"--at needs a UTC offset or Z: {value}")
        return at

    @staticmethod
    def _for_severity(cal: Any, at: datetime, severity: str, policy: str) -> dict[str, str]:
        targets = policy_targets(policy, severity, at)  # the version in force at --at
        if not targets:
            _fail(f"policy {policy} has no targets for severity {severity}")
        answer = {}
        for key, metric in (
            ("acknowledge_by", Metric.ACKNOWLEDGEMENT),
            ("correct_by", Metric.CORRECTION),
        ):
            target = targets.get(metric)
            if target is not None:
                due = promised(cal, ClockKind(target.kind), at, target.duration)
                answer[key] = due.isoformat()
        return answer
