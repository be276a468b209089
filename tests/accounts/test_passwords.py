"""The password lifecycle: a reset by a signed link that works once and expires, a change in
the preferences, Django's validators, and a reset form that reveals nobody's existence."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from tests.accounts.mail import RESET_LINK, mailed_link
from tests.factories import PASSWORD, World
from tickets.models import OutboundMail
from tickets.tasks import mail_sweep_task

pytestmark = pytest.mark.django_db
RESET = "/accounts/password/reset/"
NEW_PASSWORD = "a much longer passphrase 2026"


def reset_link(address: str) -> str:
    """Ask for a reset, send the outbox, and read the link in the mail."""
    response = Client().post(RESET, {"email": address})
    assert response.status_code == 302 and response["Location"].endswith("/reset/done/")
    return mailed_link(RESET_LINK)


def choose(client: Client, link: str, password: str, again: str | None = None) -> str:
    """Open the link, then post the new password twice; the page answered."""
    form = client.get(link, follow=True)
    target = form.redirect_chain[-1][0] if form.redirect_chain else link
    response = client.post(
        target, {"password1": password, "password2": again or password}, follow=True
    )
    return response.content.decode()


def main(page: bytes) -> str:
    """The page's own content (the frame around it carries per-request tokens)."""
    text = page.decode()
    return text[text.index("<main") : text.index("</main>")]


def signs_in(username: str, password: str) -> bool:
    client = Client()
    client.post("/accounts/login/", {"login": username, "password": password})
    return "_auth_user_id" in client.session


def test_the_sign_in_page_offers_the_reset(world: World) -> None:
    page = Client().get("/accounts/login/").content.decode()
    assert 'href="/accounts/password/reset/"' in page and "Forgot your password?" in page


def test_a_reset_by_mail_sets_a_new_password_once(world: World) -> None:
    link = reset_link(world.alice.user.email)
    client = Client()
    assert "Password changed" in choose(client, link, NEW_PASSWORD)
    assert signs_in("alice", NEW_PASSWORD) and not signs_in("alice", PASSWORD)
    # The same link again: refused, and the password stays.
    assert "This link no longer works" in choose(Client(), link, "yet another passphrase 77")
    assert signs_in("alice", NEW_PASSWORD)


def test_the_mail_names_the_user_and_the_link_expiry_and_is_not_kept(world: World) -> None:
    Client().post(RESET, {"email": world.alice.user.email})
    outbound = OutboundMail.objects.get(kind=OutboundMail.Kind.ACCOUNT)
    assert outbound.to_address == world.alice.user.email and "/accounts/password/reset/key/" in (
        outbound.text
    )
    mail_sweep_task()
    (message,) = mail.outbox
    assert message.subject == "Pacte · Choose a new password"
    assert "within 2 hours" in str(message.body) and "Your username is alice" in str(message.body)
    assert message.alternatives and "Choose a new password" in str(message.alternatives[0][0])
    assert "Reply-To" not in message.extra_headers
    outbound.refresh_from_db()
    assert outbound.state == "sent" and outbound.text == "" and outbound.html == ""


def test_an_unknown_address_gets_the_same_answer_and_no_mail(world: World) -> None:
    known = Client().post(RESET, {"email": world.alice.user.email}, follow=True)
    unknown = Client().post(RESET, {"email": "nobody@example.test"}, follow=True)
    assert known.redirect_chain == unknown.redirect_chain
    assert main(known.content) == main(unknown.content)
    assert OutboundMail.objects.filter(to_address="nobody@example.test").count() == 0
    assert OutboundMail.objects.filter(to_address=world.alice.user.email).count() == 1


def test_the_link_expires(world: World) -> None:
    link = reset_link(world.alice.user.email)
    # Three hours on (the link lasts two): Django's token reads the naive local time, which
    # time_machine moves in UTC while Django's TZ is Paris, an hour off.
    with time_machine.travel(timezone.now() + timedelta(hours=3, minutes=1)):
        assert "This link no longer works" in choose(Client(), link, NEW_PASSWORD)
    assert signs_in("alice", PASSWORD)


def test_weak_or_mismatched_passwords_are_refused(world: World) -> None:
    link = reset_link(world.alice.user.email)
    client = Client()
    assert "This password is too short" in choose(client, link, "abc12")
    assert "This password is too common" in choose(client, link, "password123")
    assert "entirely numeric" in choose(client, link, "8346190257731")
    assert "same password" in choose(client, link, NEW_PASSWORD, again=NEW_PASSWORD + "x")
    assert signs_in("alice", PASSWORD)


def test_a_reset_ends_a_sign_in_pause(world: World) -> None:
    for _ in range(5):
        Client().post("/accounts/login/", {"login": "alice", "password": "guess"})
    assert not signs_in("alice", PASSWORD)  # paused
    choose(Client(), reset_link(world.alice.user.email), NEW_PASSWORD)
    assert signs_in("alice", NEW_PASSWORD)


def test_a_signed_in_user_changes_their_password_and_is_told_by_mail(world: World) -> None:
    client = Client()
    client.force_login(world.alice.user)  # type: ignore[arg-type]
    page = client.get("/accounts/preferences/").content.decode()
    assert 'href="/accounts/password/change/"' in page
    wrong = client.post(
        "/accounts/password/change/",
        {"oldpassword": "guess", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert wrong.status_code == 200 and signs_in("alice", PASSWORD)
    done = client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert done.status_code == 302 and signs_in("alice", NEW_PASSWORD)
    assert "_auth_user_id" in client.session  # this session goes on
    mail_sweep_task()
    (message,) = mail.outbox
    assert message.to == [f"{world.alice.user.get_full_name()} <{world.alice.user.email}>"]
    assert "Your password has been changed" in str(message.body)


def test_the_reset_mail_is_in_the_users_language(world: World) -> None:
    user = world.alice.user
    user.language = "fr"
    user.save(update_fields=["language"])
    Client().post(RESET, {"email": user.email})  # from an English browser
    mail_sweep_task()
    (message,) = mail.outbox
    assert message.subject == "Pacte · Choisir un nouveau mot de passe"


def test_a_customer_is_found_by_their_contact_address(world: World) -> None:
    contact = world.alice
    contact.email = "alice.martin@acme.test"  # not the account's address
    contact.save(update_fields=["email"])
    link = reset_link("Alice.Martin@acme.test")
    assert "Password changed" in choose(Client(), link, NEW_PASSWORD)
    assert signs_in("alice", NEW_PASSWORD)
