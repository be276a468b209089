"""A Redis outage does not fail a request: the cache reads as empty and drops its writes (sign-in
rate limits, sessions' last activity), and people keep signing in and working."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from tests.factories import PASSWORD, World
from tests.services import free_port

pytestmark = pytest.mark.django_db


def test_signing_in_and_working_while_redis_is_down(world: World, settings: Any) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.ResilientRedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    assert cache.get("anything", "fallback") == "fallback"
    assert cache.add("lock", True) is True and cache.set("k", 1) is None
    client = Client()
    response = client.post("/accounts/login/", {"login": "alice", "password": PASSWORD})
    assert response.status_code == 302 and "_auth_user_id" in client.session
    assert client.get("/tickets/").status_code == 200
    assert client.get("/accounts/sessions/").status_code == 200
    reset = Client().post("/accounts/password/reset/", {"email": world.alice.user.email})
    assert reset.status_code == 302
