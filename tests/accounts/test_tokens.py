"""API tokens: staff create them only from a session that passed the second factor; a key is
shown once, kept hashed, expires and can be revoked."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from tests.factories import PASSWORD, World
from tickets.models import ApiToken

pytestmark = pytest.mark.django_db


def create(client: Client, name: str = "monitoring", days: str = "90") -> str:
    page = client.post("/api-tokens/", {"name": name, "days": days}).content.decode()
    key = re.search(r'<code class="secret" id="new-token">([^<]+)</code>', page)
    assert key, page
    return key.group(1)


def calls_api(key: str) -> int:
    return APIClient().get("/api/tickets/", HTTP_AUTHORIZATION=f"Token {key}").status_code


def test_staff_create_a_token_after_their_second_factor(world: World) -> None:
    password_only = Client()
    password_only.post("/accounts/login/", {"login": "agent_eu", "password": PASSWORD})
    refused = password_only.post("/api-tokens/", {"name": "script", "days": "90"})
    assert refused.status_code == 302 and refused["Location"].startswith("/accounts/2fa/")
    assert not ApiToken.objects.exists()

    agent = Client()
    agent.force_login(world.agent_eu)  # signed in with the second factor
    key = create(agent)
    token = ApiToken.objects.get()
    assert token.user == world.agent_eu and token.digest == hashlib.sha256(key.encode()).hexdigest()
    assert key not in agent.get("/api-tokens/").content.decode()  # shown once
    assert (token.expires_at - token.created_at) == timedelta(days=90)
    assert calls_api(key) == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_token_stops_when_revoked_or_expired(world: World) -> None:
    agent = Client()
    agent.force_login(world.agent_eu)
    revoked, lasting = create(agent, "old script"), create(agent, "new script", days="30")
    old = ApiToken.objects.get(name="old script")
    other = Client()
    other.force_login(world.agent_fr)
    assert other.post(f"/api-tokens/{old.pk}/revoke/").status_code == 404  # not theirs
    assert calls_api(revoked) == 200
    agent.post(f"/api-tokens/{old.pk}/revoke/")
    assert calls_api(revoked) == 401 and calls_api(lasting) == 200
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        assert calls_api(lasting) == 401
        agent.force_login(world.agent_eu)  # the session of a month ago has ended
        page = agent.get("/api-tokens/").content.decode()
        assert "revoked" in page and "expired" in page


def test_bad_token_input_creates_nothing(world: World) -> None:
    agent = Client()
    agent.force_login(world.agent_eu)
    assert agent.post("/api-tokens/", {"name": "  ", "days": "90"}).status_code == 400
    assert agent.post("/api-tokens/", {"name": "x", "days": "9999"}).status_code == 400
    assert not ApiToken.objects.exists()


def test_customers_get_an_expiring_token_with_their_password(world: World) -> None:
    answer = APIClient().post(
        "/api/auth/token/", {"username": "alice", "password": PASSWORD}, format="json"
    )
    assert answer.status_code == 200
    token = ApiToken.objects.get(user=world.alice.user)
    assert (token.expires_at - token.created_at) == timedelta(days=90)
    assert calls_api(answer.json()["token"]) == 200
    assert calls_api("not-a-token") == 401
