"""Password guessing on the sign-in page and the API's token endpoint (django-axes): one
username from one address is paused after five wrong passwords, for fifteen minutes."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from tests.factories import PASSWORD, World

pytestmark = pytest.mark.django_db
URL = "/accounts/login/"


def sign_in(client: Client, username: str, password: str, address: str = "203.0.113.7") -> int:
    response = client.post(URL, {"login": username, "password": password}, REMOTE_ADDR=address)
    return response.status_code


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_five_wrong_passwords_pause_that_account_from_that_address(world: World) -> None:
    client = Client()
    for _ in range(4):
        assert sign_in(client, "alice", "guess") == 200  # the form again, with its error
    response = client.post(URL, {"login": "alice", "password": "guess"}, REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 429
    page = response.content.decode()
    assert "Sign-in paused" in page and "5 times in a row" in page and "15 min" in page
    # Now even the right password is refused, and nothing is signed in.
    assert sign_in(client, "alice", PASSWORD) == 429 and not signed_in(client)
    # Another account from the same address, and the same account from elsewhere, still can.
    assert sign_in(Client(), "bob", PASSWORD) == 302
    other = Client()
    assert sign_in(other, "alice", PASSWORD, address="198.51.100.2") == 302 and signed_in(other)


def test_the_pause_ends_after_its_cool_off(world: World) -> None:
    client = Client()
    for _ in range(5):
        sign_in(client, "alice", "guess")
    assert sign_in(client, "alice", PASSWORD) == 429
    with time_machine.travel(timezone.now() + timedelta(minutes=16), tick=False):
        assert sign_in(client, "alice", PASSWORD) == 302 and signed_in(client)


def test_a_successful_sign_in_clears_the_count(world: World) -> None:
    client = Client()
    for _ in range(4):
        sign_in(client, "alice", "guess")
    assert sign_in(client, "alice", PASSWORD) == 302
    client.logout()
    for _ in range(4):
        assert sign_in(client, "alice", "guess") == 200
    assert sign_in(client, "alice", PASSWORD) == 302


def test_the_token_endpoint_counts_and_refuses_too(world: World, api: APIClient) -> None:
    def token(password: str) -> int:
        response = api.post(
            "/api/auth/token/",
            {"username": "alice", "password": password},
            format="json",
            REMOTE_ADDR="203.0.113.9",
        )
        return response.status_code

    assert [token("guess") for _ in range(5)][:4] == [400] * 4
    assert token(PASSWORD) == 429  # paused: no token, even for the right password


def test_the_pause_page_in_french(world: World) -> None:
    world.alice.user.language = "fr"
    world.alice.user.save(update_fields=["language"])
    client = Client(HTTP_ACCEPT_LANGUAGE="fr")
    for _ in range(5):
        sign_in(client, "alice", "guess")
    response = client.post(URL, {"login": "alice", "password": PASSWORD}, REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 429
    assert "Connexion suspendue" in response.content.decode()
