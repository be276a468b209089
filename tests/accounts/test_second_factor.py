"""Staff need more than a password: no desk, report, admin or API session until a second
factor has been passed in this session; customers may enrol one. Through the pages, with
codes computed by the test (RFC 6238)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from tests.accounts.second_factor import enrol_totp, totp_code
from tests.factories import PASSWORD, World, open_ticket
from tickets.models import User

pytestmark = pytest.mark.django_db

STAFF_PAGES = ["/desk/", "/desk/reports/", "/admin/", "/api/tickets/", "/notifications/"]


def password_step(client: Client, user: User, password: str = PASSWORD) -> Any:
    return client.post("/accounts/login/", {"login": user.username, "password": password})


def code_step(client: Client, code: str) -> Any:
    return client.post("/accounts/2fa/authenticate/", {"code": code})


def activation_form(client: Client) -> str:
    """The authenticator app's enrolment page, after typing the password again (adding a
    factor is a sensitive change); the secret it shows."""
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    page = client.get("/accounts/2fa/totp/activate/").content.decode()
    secret = re.search(r'id="authenticator_secret"[^>]* value="([A-Z2-7]+)"', page)
    assert secret, page
    return secret.group(1)


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def later(seconds: int = 31) -> Any:
    """A new 30-second window: a code is accepted once."""
    return time_machine.travel(timezone.now() + timedelta(seconds=seconds))


def test_staff_without_a_second_factor_are_sent_to_enrol_one(world: World) -> None:
    world.manager.is_staff = True
    world.manager.save(update_fields=["is_staff"])
    client = Client()
    assert password_step(client, world.manager).status_code == 302 and signed_in(client)
    for url in STAFF_PAGES:
        response = client.get(url)
        if url.startswith("/api/"):
            assert response.status_code == 403, url
            assert "second factor" in response.json()["detail"]
        else:
            assert response.status_code == 302, url
            assert response["Location"].startswith("/accounts/2fa/?next="), url
    page = client.get("/accounts/2fa/", follow=True).content.decode()
    assert "Support staff need a second factor" in page
    # The account pages stay open: preferences, password, sign-out.
    assert client.get("/accounts/preferences/").status_code == 200
    # htmx asks for a full-page redirect rather than swapping the enrolment page in.
    fragment = client.get("/desk/", HTTP_HX_REQUEST="true")
    assert fragment.status_code == 204 and fragment["HX-Redirect"].startswith("/accounts/2fa/")


@pytest.mark.django_db(transaction=True)  # the enrolment confirms the session after commit
def test_enrolling_an_authenticator_app_opens_the_desk(world: World) -> None:
    client = Client()
    password_step(client, world.agent_eu)
    secret = activation_form(client)
    wrong = client.post("/accounts/2fa/totp/activate/", {"code": "000000"})
    assert wrong.status_code == 200 and not Authenticator.objects.exists()
    done = client.post("/accounts/2fa/totp/activate/", {"code": totp_code(secret)})
    assert done.status_code == 302
    assert set(Authenticator.objects.values_list("type", flat=True)) == {"totp", "recovery_codes"}
    assert client.get("/desk/").status_code == 200  # the enrolment proved the factor


def test_signing_in_asks_for_the_code_and_refuses_a_wrong_one(world: World) -> None:
    secret = enrol_totp(world.agent_eu)
    client = Client()
    response = password_step(client, world.agent_eu)
    assert response["Location"] == "/accounts/2fa/authenticate/" and not signed_in(client)
    wrong = code_step(client, "123456" if totp_code(secret) != "123456" else "654321")
    assert wrong.status_code == 200 and "Incorrect code" in wrong.content.decode()
    assert not signed_in(client)
    code = totp_code(secret)
    assert code_step(client, code).status_code == 302 and signed_in(client)
    assert client.get("/desk/").status_code == 200
    # The same code again, in a new sign-in: used already (the same digits, even when the
    # 30-second step has turned meanwhile and the app would show new ones).
    other = Client()
    password_step(other, world.agent_eu)
    assert code_step(other, code).status_code == 200 and not signed_in(other)


@pytest.mark.django_db(transaction=True)
def test_a_recovery_code_signs_in_once(world: World) -> None:
    client = Client()
    password_step(client, world.agent_eu)
    secret = activation_form(client)
    client.post("/accounts/2fa/totp/activate/", {"code": totp_code(secret)})
    codes_page = client.get("/accounts/2fa/recovery-codes/").content.decode()
    codes = re.findall(r"\b[0-9a-f]{8}\b", codes_page)
    assert len(codes) >= 10, codes_page
    client.post("/accounts/logout/")
    first = Client()
    password_step(first, world.agent_eu)
    assert code_step(first, codes[0]).status_code == 302 and signed_in(first)
    assert first.get("/desk/").status_code == 200
    again = Client()
    password_step(again, world.agent_eu)
    assert code_step(again, codes[0]).status_code == 200 and not signed_in(again)


def test_staff_signed_in_before_enrolling_confirm_once(world: World) -> None:
    secret = enrol_totp(world.agent_eu)
    client = Client()
    client.force_login(world.agent_eu)
    session = client.session
    session.pop("account_authentication_methods")  # a session opened with the password alone
    session.save()
    response = client.get("/desk/")
    assert response["Location"].startswith("/accounts/2fa/reauthenticate/?next=%2Fdesk%2F")
    confirmed = client.post(
        "/accounts/2fa/reauthenticate/?next=/desk/", {"code": totp_code(secret)}
    )
    assert confirmed.status_code == 302 and confirmed["Location"] == "/desk/"
    assert client.get("/desk/").status_code == 200


def test_customers_are_not_held_but_may_enrol(world: World) -> None:
    ticket = open_ticket(world.alice)
    client = Client()
    password_step(client, world.alice.user)  # type: ignore[arg-type]
    assert client.get(f"/tickets/{ticket.reference}/").status_code == 200
    secret = enrol_totp(world.alice.user)  # type: ignore[arg-type]
    later_client = Client()
    response = password_step(later_client, world.alice.user)  # type: ignore[arg-type]
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert code_step(later_client, totp_code(secret)).status_code == 302
    assert later_client.get(f"/tickets/{ticket.reference}/").status_code == 200


def test_the_password_token_endpoint_refuses_staff(world: World, api: APIClient) -> None:
    answer = api.post(
        "/api/auth/token/", {"username": "agent_eu", "password": PASSWORD}, format="json"
    )
    assert answer.status_code == 403
    assert "second factor" in answer.json()["detail"]
    customer = api.post(
        "/api/auth/token/", {"username": "alice", "password": PASSWORD}, format="json"
    )
    assert customer.status_code == 200 and customer.json()["token"]


def test_a_single_sign_on_counts_as_the_second_factor_unless_told_otherwise(
    world: World, settings: Any
) -> None:
    client = Client()
    client.force_login(world.agent_eu)
    session = client.session
    session["account_authentication_methods"] = [
        {"method": "socialaccount", "at": 0, "provider": "company", "uid": "e.agent"}
    ]
    session.save()
    assert client.get("/desk/").status_code == 200
    settings.PACTE_OIDC_TRUSTS_SECOND_FACTOR = False
    assert client.get("/desk/")["Location"].startswith("/accounts/2fa/")
