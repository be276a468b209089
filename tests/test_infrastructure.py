"""The real services the product runs on: Redis, a Celery worker, PostgreSQL in CI."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from sla.models import Clock, EscalationLevel
from tests import services as real
from tests.factories import World, open_ticket

from .conftest import IN_CI


@pytest.mark.django_db(transaction=True)
def test_worker_with_beat_sweeps_through_redis(
    world: World, redis_url: str, tmp_path: Path
) -> None:
    """make run's shape: a worker and its beat, through the real broker, on the test database."""
    ticket = open_ticket(world.alice, received_at=timezone.now() - timedelta(days=30))
    clocks = Clock.objects.filter(ticket=ticket)
    with real.celery_worker(
        redis_url, tmp_path, beat=True, env={"PACTE_SWEEP_SECONDS": "1"}
    ) as worker:
        done = real.wait_until(
            lambda: all(c.escalation_level == EscalationLevel.HEAD for c in clocks.all()), 60
        )
        assert done, worker.output()
    assert all(c.breached_at == c.due_at for c in clocks.all())


@pytest.mark.django_db
def test_ci_runs_on_postgresql() -> None:
    if connection.vendor != "postgresql":
        if IN_CI:
            pytest.fail("CI must run the suite against PostgreSQL (DATABASE_URL)")
        pytest.skip("DATABASE_URL does not name a PostgreSQL server (CI sets one)")
    assert connection.pg_version >= 130000  # type: ignore[attr-defined]  # psycopg connection
