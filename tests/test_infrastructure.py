"""The real services the product runs on: Redis, a Celery worker, PostgreSQL in CI."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from sla.models import Clock, EscalationLevel
from tests import services as real
from tests.factories import World, open_ticket

from .conftest import IN_CI


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """REDIS_URL when given (CI starts a redis-server), else a private server."""
    url = os.environ.get("REDIS_URL")
    if url:
        if not real.wait_for_redis(url, timeout=5):
            pytest.skip(f"REDIS_URL={url} does not answer")
        yield url
        return
    try:
        with real.redis_server(Path(tmp_path_factory.mktemp("redis"))) as server:
            yield server.url
    except (OSError, RuntimeError) as error:
        pytest.skip(f"no Redis available: {error}")


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
