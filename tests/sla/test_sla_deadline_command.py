"""`manage.py sla_deadline`: every worked example of SLA-RULES.md, and every bad argument."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.services import database_url_for_subprocess

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent.parent


def deadline(*args: str) -> dict[str, str]:
    out = StringIO()
    call_command("sla_deadline", *args, stdout=out)
    return json.loads(out.getvalue())  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("calendar", "at", "clock", "hours", "due"),
    [
        # SLA-RULES.md, business_days on europe
        ("europe", "2026-06-12T15:00:00+02:00", "business_days", "24", "2026-06-15T15:00:00+02:00"),
        ("europe", "2026-06-11T16:30:00+02:00", "business_days", "24", "2026-06-12T16:30:00+02:00"),
        ("europe", "2026-06-12T16:30:00+02:00", "business_days", "24", "2026-06-16T09:00:00+02:00"),
        ("europe", "2026-06-03T10:00:00+02:00", "business_days", "24", "2026-06-05T10:00:00+02:00"),
        # business_hours: due at a closing instant stays there
        ("europe", "2026-06-12T11:00:00+02:00", "business_hours", "5", "2026-06-12T16:00:00+02:00"),
        # arriving at 17:00 sharp is outside open time
        ("europe", "2026-06-08T17:00:00+02:00", "business_hours", "5", "2026-06-09T14:00:00+02:00"),
        # the instant may be given in any offset; the answer is in the calendar's zone
        ("europe", "2026-06-12T09:00:00Z", "business_hours", "5", "2026-06-12T16:00:00+02:00"),
        # across the spring DST change (Sunday 2026-03-29 in Berlin)
        ("europe", "2026-03-27T15:00:00+01:00", "business_days", "24", "2026-03-30T15:00:00+02:00"),
        ("europe", "2026-06-12T11:00:00+02:00", "wall", "5", "2026-06-12T16:00:00+02:00"),
        # North America: 2026-07-03 is the observed Independence Day
        (
            "north-america",
            "2026-07-02T16:00:00-04:00",
            "business_days",
            "24",
            "2026-07-06T16:00:00-04:00",
        ),
        ("france", "2026-07-13T16:00:00+02:00", "business_hours", "2", "2026-07-15T10:00:00+02:00"),
        ("europe", "2026-06-12T11:00:00+02:00", "business_hours", "0", "2026-06-12T11:00:00+02:00"),
    ],
)
def test_clock_deadlines(calendar: str, at: str, clock: str, hours: str, due: str) -> None:
    answer = deadline("--calendar", calendar, "--at", at, "--clock", clock, "--hours", hours)
    assert answer == {"due": due}


@pytest.mark.parametrize(
    ("severity", "acknowledge_by", "correct_by"),
    [
        ("blocking", "2026-06-12T16:00:00+02:00", "2026-06-15T11:00:00+02:00"),
        ("major", "2026-06-15T11:00:00+02:00", "2026-06-16T11:00:00+02:00"),
        ("minor", "2026-06-16T11:00:00+02:00", "2026-06-19T11:00:00+02:00"),
    ],
)
def test_standard_policy_from_friday_eleven(
    severity: str, acknowledge_by: str, correct_by: str
) -> None:
    answer = deadline(
        "--calendar", "europe", "--at", "2026-06-12T11:00:00+02:00", "--severity", severity
    )
    assert answer == {"acknowledge_by": acknowledge_by, "correct_by": correct_by}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--calendar", "mars", "--at", "2026-06-12T11:00:00Z", "--severity", "major"],
            "unknown calendar",
        ),
        (
            ["--calendar", "europe", "--at", "2026-06-12T11:00:00", "--severity", "major"],
            "UTC offset",
        ),
        (["--calendar", "europe", "--at", "friday", "--severity", "major"], "ISO 8601"),
        (
            ["--calendar", "europe", "--at", "2026-02-30T11:00:00Z", "--severity", "major"],
            "ISO 8601",
        ),
        (
            [
                "--calendar",
                "europe",
                "--at",
                "2026-06-12T11:00:00Z",
                "--clock",
                "eons",
                "--hours",
                "1",
            ],
            "invalid choice",
        ),
        (
            [
                "--calendar",
                "europe",
                "--at",
                "2026-06-12T11:00:00Z",
                "--clock",
                "wall",
                "--hours",
                "-1",
            ],
            "not negative",
        ),
        (
            [
                "--calendar",
                "europe",
                "--at",
                "2026-06-12T11:00:00Z",
                "--clock",
                "wall",
                "--hours",
                "nan",
            ],
            "not negative",
        ),
        (
            ["--calendar", "europe", "--at", "2026-06-12T11:00:00Z", "--clock", "wall"],
            "needs --hours",
        ),
        (
            ["--calendar", "europe", "--at", "2026-06-12T11:00:00Z", "--severity", "urgent"],
            "invalid choice",
        ),
        (
            [
                "--calendar",
                "europe",
                "--at",
                "2026-06-12T11:00:00Z",
                "--severity",
                "major",
                "--policy",
                "gold",
            ],
            "no targets",
        ),
        (["--calendar", "europe", "--at", "2026-06-12T11:00:00Z"], "required"),
    ],
)
def test_bad_arguments_are_status_2(args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message) as error:
        call_command("sla_deadline", *args)
    assert error.value.returncode == 2


def test_never_open_calendar_is_a_clear_error() -> None:
    from sla.models import Calendar

    Calendar.objects.create(slug="never", name="Never", time_zone="UTC")
    with pytest.raises(CommandError, match="open") as error:
        call_command(
            "sla_deadline",
            "--calendar",
            "never",
            "--at",
            "2026-06-12T11:00:00Z",
            "--clock",
            "business_hours",
            "--hours",
            "1",
        )
    assert error.value.returncode == 2


def shell(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the command in a process of its own, on the test database."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url_for_subprocess(),
    }
    return subprocess.run(
        [sys.executable, "manage.py", "sla_deadline", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env=env,
    )


def test_from_the_shell_one_json_line_or_one_error_line() -> None:
    ok = shell(
        "--calendar", "europe", "--at", "2026-06-12T11:00:00+02:00", "--severity", "blocking"
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["acknowledge_by"] == "2026-06-12T16:00:00+02:00"
    for bad in (["--clock", "eons", "--hours", "1"], ["--severity", "major", "--hours", "1"]):
        result = shell("--calendar", "europe", "--at", "2026-06-12T11:00:00Z", *bad)
        assert result.returncode == 2
        assert result.stdout == ""
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
