"""One consistent look (issue 23): what a demanding user notices first on the staff pages."""

from __future__ import annotations

import re

import pytest

from tests.accounts.second_factor import pass_second_factor
from tests.factories import World, client_for, open_ticket
from tickets import services

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("language", ["en", "fr"])
def test_no_select_says_dashes(world: World, language: str) -> None:
    """Every empty choice says what it means ("Choose the caller", "Every desk"), not
    Django's "---------"."""
    manager = client_for(world.manager)
    pass_second_factor(manager, world.manager)
    manager.cookies["django_language"] = language
    for url in ("/desk/call/", "/desk/reports/", "/desk/canned/new/"):
        page = manager.get(url, HTTP_ACCEPT_LANGUAGE=language)
        assert page.status_code == 200, url
        assert "---------" not in page.content.decode(), url


def test_the_first_public_reply_assigns_an_unassigned_ticket_to_its_author(
    world: World, settings: object
) -> None:
    ticket = open_ticket(world.alice)
    services.ticket_reply(ticket=ticket, author=world.agent_eu, body="A note.", internal=True)
    ticket.refresh_from_db()
    assert ticket.assignee is None  # a note is no answer
    services.ticket_reply(ticket=ticket, author=world.manager, body="Looking at it.")
    ticket.refresh_from_db()
    assert ticket.assignee is None  # a manager passing by is not made its owner
    services.ticket_reply(ticket=ticket, author=world.agent_eu, body="We are on it.")
    ticket.refresh_from_db()
    assert ticket.assignee == world.agent_eu
    services.ticket_reply(ticket=ticket, author=world.agent_eu, body="Still on it.")
    settings.PACTE_ASSIGN_ON_FIRST_REPLY = False  # type: ignore[attr-defined]
    other = open_ticket(world.alice)
    services.ticket_reply(ticket=other, author=world.agent_eu, body="We are on it.")
    other.refresh_from_db()
    assert other.assignee is None


def test_the_account_pages_speak_in_sentence_case(world: World) -> None:
    """django-allauth's own pages say "Two-factor authentication", "Change password", as
    every other page does (locale/en overrides its Title Case), and French stays French."""
    manager = client_for(world.manager)
    pass_second_factor(manager, world.manager)
    page = manager.get("/accounts/2fa/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Two-factor authentication" in page and "Security keys" in page
    assert "Two-Factor Authentication" not in page
    password = manager.get("/accounts/password/change/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Change password" in password.content.decode()
    # The form's one submit is its main action; the panels' links on the 2FA page are not.
    changed = password.content.decode()
    assert "Current password" in changed and "New password (again)" in changed
    assert "Current Password" not in changed
    assert re.search(r'<button class="btn primary" type="submit">\s*Change password\s*<', changed)
    assert re.search(r'<a href="/accounts/2fa/totp/activate/" class="btn">\s*Activate\s*<', page)
