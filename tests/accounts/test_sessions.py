"""Sessions: each user sees where they are signed in and signs any session out; a staff
session ends after PACTE_STAFF_IDLE_MINUTES without a click, the pages' own refreshes not
counting."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from allauth.usersessions.models import UserSession
from django.test import Client
from django.utils import timezone

from tests.accounts.second_factor import enrol_totp, totp_code
from tests.factories import PASSWORD, World
from tickets.accounts.sessions import describe_device, last_activity

pytestmark = pytest.mark.django_db
CHROME_LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/156.0.0.0 Safari/537.36"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)


def sign_in(user_agent: str, address: str, username: str = "alice") -> Client:
    client = Client(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=address)
    response = client.post("/accounts/login/", {"login": username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_a_user_sees_their_sessions_and_signs_one_out(world: World) -> None:
    laptop = sign_in(CHROME_LINUX, "203.0.113.7")
    phone = sign_in(SAFARI_IPHONE, "198.51.100.2")
    sign_in(CHROME_LINUX, "192.0.2.1", username="bob")  # someone else's
    page = laptop.get("/accounts/sessions/").content.decode()
    assert "Chrome on Linux" in page and "Mobile Safari on iOS (iPhone)" in page
    assert "203.0.113.7" in page and "198.51.100.2" in page and "192.0.2.1" not in page
    assert page.count("this browser") == 1
    phone_session = UserSession.objects.get(user=world.alice.user, ip="198.51.100.2")
    bobs = UserSession.objects.get(ip="192.0.2.1")
    assert laptop.post(f"/accounts/sessions/{bobs.pk}/end/").status_code == 404
    assert laptop.post(f"/accounts/sessions/{phone_session.pk}/end/").status_code == 302
    assert phone.get("/tickets/")["Location"].startswith("/accounts/login/")  # signed out
    assert laptop.get("/tickets/").status_code == 200
    assert sign_in(CHROME_LINUX, "192.0.2.9", username="bob")  # bob untouched
    # Its own session: signed out, to the sign-in page.
    own = UserSession.objects.get(user=world.alice.user, ip="203.0.113.7")
    response = laptop.post(f"/accounts/sessions/{own.pk}/end/")
    assert response["Location"] == "/accounts/login/"
    assert laptop.get("/tickets/").status_code == 302


def test_last_seen_follows_clicks_not_refreshes(world: World) -> None:
    client = sign_in(CHROME_LINUX, "203.0.113.7")
    key = client.session.session_key
    start = timezone.now()
    client.get("/tickets/")
    first = last_activity(key)
    assert first is not None and first <= start.timestamp() + 1
    with time_machine.travel(start + timedelta(minutes=5)):
        client.get("/tickets/", HTTP_X_PACTE_POLL="1")
    assert last_activity(key) == first
    with time_machine.travel(start + timedelta(minutes=6)):
        client.get("/tickets/")
    assert last_activity(key) >= (start + timedelta(minutes=6)).timestamp() - 1
    page = client.get("/accounts/sessions/").content.decode()
    assert "Chrome on Linux" in page


def test_an_idle_staff_session_ends_but_a_customers_does_not(world: World, settings: Any) -> None:
    settings.PACTE_STAFF_IDLE_MINUTES = 30
    secret = enrol_totp(world.agent_eu)
    start = timezone.now()
    agent = Client()
    agent.post("/accounts/login/", {"login": "agent_eu", "password": PASSWORD})
    agent.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})
    customer = sign_in(CHROME_LINUX, "203.0.113.7")
    with time_machine.travel(start + timedelta(minutes=20)):
        assert agent.get("/desk/").status_code == 200  # a click: the clock starts again
    with time_machine.travel(start + timedelta(minutes=45)):
        # Refreshes alone for 25 minutes; then 5 more without anything: past 30.
        assert agent.get("/desk/", HTTP_X_PACTE_POLL="1").status_code == 200
    with time_machine.travel(start + timedelta(minutes=51, seconds=1)):
        ended = agent.get("/desk/", HTTP_HX_REQUEST="true", HTTP_X_PACTE_POLL="1")
        assert ended.status_code == 204 and ended["HX-Redirect"].startswith("/accounts/login/")
        assert agent.get("/desk/")["Location"].startswith("/accounts/login/")
        assert customer.get("/tickets/").status_code == 200


def test_devices_are_named_from_the_user_agent() -> None:
    assert describe_device(CHROME_LINUX) == "Chrome on Linux"
    assert describe_device("") == "Unknown device"
    assert describe_device("curl/8.5.0") == "curl"
