"""Each process keeps a calendar's snapshot while the calendar is unchanged: the queue, ticket
writes and escalations read no calendar rows, and every change is seen at once."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from sla.clocks.calendar import is_open
from sla.clocks.snapshots import snapshot_by_id, snapshot_of
from sla.models import Calendar, Closure, OpeningInterval

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")
MONDAY_10 = datetime(2026, 6, 8, 10, 0, tzinfo=BERLIN)


def test_a_kept_snapshot_costs_no_query_and_an_edit_is_seen_at_once() -> None:
    europe = Calendar.objects.get(slug="europe")
    first = snapshot_of(europe)
    assert is_open(first, MONDAY_10)
    with CaptureQueriesContext(connection) as queries:
        assert snapshot_of(Calendar.objects.get(pk=europe.pk)) is first
    assert len(queries) == 1  # the calendar's row, which the queue reads with its tickets

    Closure.objects.create(
        calendar=europe, start=date(2026, 6, 8), end=date(2026, 6, 8), label="Move"
    )
    assert not is_open(snapshot_by_id(europe.pk), MONDAY_10)
    OpeningInterval.objects.filter(calendar=europe, weekday=1).first().delete()  # Tuesday
    assert not is_open(snapshot_by_id(europe.pk), datetime(2026, 6, 9, 10, 0, tzinfo=BERLIN))


def test_a_rule_change_and_a_stale_instance_never_bring_back_an_old_snapshot() -> None:
    europe = Calendar.objects.get(slug="europe")
    stale = Calendar.objects.get(pk=europe.pk)  # an admin form opened before the change
    first_version = stale.version
    snapshot_of(stale)
    europe.time_zone = "America/New_York"
    europe.save()
    assert snapshot_by_id(europe.pk).time_zone == "America/New_York"
    changed = Calendar.objects.values_list("version", flat=True).get(pk=europe.pk)
    stale.name = "Europe (renamed)"
    stale.save()  # writes its old rules back: a change again, with a version never seen
    stored = Calendar.objects.get(pk=europe.pk)
    assert stored.time_zone == "Europe/Berlin"
    assert stored.version not in (first_version, changed)
    assert snapshot_of(stored).time_zone == "Europe/Berlin"
    # A fixture (loaddata saves raw, without the history) changes the rules: seen at once.
    stored.time_zone = "Asia/Tokyo"
    stored.save_base(raw=True)
    assert snapshot_by_id(europe.pk).time_zone == "Asia/Tokyo"


def test_a_rolled_back_change_leaves_no_snapshot_behind() -> None:
    europe = Calendar.objects.get(slug="europe")
    before = Calendar.objects.values_list("version", flat=True).get(pk=europe.pk)
    with pytest.raises(RuntimeError), transaction.atomic():
        Closure.objects.create(calendar=europe, start=date(2026, 6, 8), end=date(2026, 6, 8))
        assert not is_open(snapshot_by_id(europe.pk), MONDAY_10)  # seen inside the change
        raise RuntimeError("the edit fails")
    assert Calendar.objects.values_list("version", flat=True).get(pk=europe.pk) == before
    assert is_open(snapshot_by_id(europe.pk), MONDAY_10)
