"""A walkthrough of every page each role reaches from the navigation, in English and French,
with a screenshot of each in var/screenshots/walkthrough/<language>/<role>-<page>.png: the
customer, their organization's administrator, an agent and a manager, each signed in once and
going from page to page (tests/e2e/walkthrough_pages.py lists them and builds the data).

Every page answers, in the reader's language (its <html lang>), with a title and a heading,
the data it should show, nothing a template left unfilled, and nothing wider than the window
(no sideways scrolling, on the desktop as on the phone). The server's clock is set to
a Wednesday in mid-June, so the pages are the same whatever day the test runs."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Page, ViewportSize, expect

from tests.e2e.accounts import settled, sign_in
from tests.e2e.test_journey import t
from tests.e2e.walkthrough_pages import STOPS, Stop, Visitor, Walkthrough, build
from tickets.models import User

pytestmark = pytest.mark.django_db(transaction=True)

DESKTOP: ViewportSize = {"width": 1366, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}
LOCALES = {"en": "en-GB", "fr": "fr-FR"}


def who(w: Walkthrough, role: str) -> User:
    world = w.world
    users = {
        "customer": world.alice.user,
        "org-admin": world.amir.user,
        "agent": world.agent_eu,
        "manager": world.manager,
    }
    user = users[role]
    assert user is not None
    return user


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("role", list(STOPS))
def test_walkthrough(
    live_server: Any,
    browser: Any,
    screenshots: Path,
    mid_june: datetime,
    role: str,
    language: str,
) -> None:
    w = build(language)
    folder = screenshots / "walkthrough" / language
    folder.mkdir(parents=True, exist_ok=True)
    page: Page = browser.new_page(viewport=DESKTOP, locale=LOCALES[language])
    visitor = Visitor(page, live_server.url, language, role, folder)
    if role == "customer":  # the sign-in page, in the browser's language
        visitor.visit(Stop("sign-in", reverse("account_login")))
    sign_in(page, live_server.url, who(w, role))
    expect(page.get_by_role("button", name=t(language, "Sign out"))).to_be_visible()
    for stop in STOPS[role](w):
        visitor.visit(stop)
    if role == "customer":  # on a phone: the list and a ticket, nothing wider than the screen
        page.set_viewport_size(PHONE)
        for stop in STOPS[role](w)[:2]:
            visitor.visit(Stop(f"{stop.name}-phone", stop.path, stop.shows))
            assert visitor.overflow() == 0, f"{stop.path} is wider than a phone"
    settled(page)  # no request of the page left to race the flush of the database
    page.close()
