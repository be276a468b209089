"""What the pages look like, measured in a real Chromium rather than read off a screenshot.

- A date picker (the audit log's filters) has the height, border, corners and font of the
  select beside it.
- On a phone the navigation keeps to one row under the brand and the account: it scrolls
  sideways when its links are wider than the screen (in French), and a link reached with the
  Tab key is scrolled into view; nothing is wider than the screen.
- A breadcrumb's link reads as words, while the ticket reference keeps its monospace.
- The queue's bulk action is offered once a ticket is chosen.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Page, ViewportSize

from tests.e2e.accounts import settled, sign_in
from tests.e2e.test_journey import speak
from tests.factories import make_world, open_ticket
from tickets.models import User

pytestmark = pytest.mark.django_db(transaction=True)

PHONE: ViewportSize = {"width": 390, "height": 844}


def style(page: Page, selector: str, prop: str) -> str:
    return str(
        page.evaluate(
            "([s, p]) => getComputedStyle(document.querySelector(s)).getPropertyValue(p)",
            [selector, prop],
        )
    )


def height(page: Page, selector: str) -> float:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return float(box["height"])


def test_date_inputs_look_like_the_selects_beside_them(
    live_server: Any, browser: Any, mid_june: datetime
) -> None:
    world = make_world()
    page: Page = browser.new_page(viewport={"width": 1366, "height": 900})
    sign_in(page, live_server.url, world.manager)
    page.goto(live_server.url + reverse("desk:audit"))
    select, date = "form.filters select", "form.filters input[type=date]"
    assert abs(height(page, date) - height(page, select)) <= 1
    for prop in ("font-family", "font-size", "border-top-color", "border-top-left-radius"):
        assert style(page, date, prop) == style(page, select, prop), prop
    page.close()


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("role", ["customer", "agent"])
def test_the_phone_navigation_is_one_row_reached_by_keyboard(
    live_server: Any, browser: Any, mid_june: datetime, language: str, role: str
) -> None:
    world = make_world()
    user = world.alice.user if role == "customer" else world.agent_eu
    assert isinstance(user, User)
    speak(user, language)
    page: Page = browser.new_page(viewport=PHONE)
    sign_in(page, live_server.url, user)
    page.goto(live_server.url + reverse("tickets:list" if role == "customer" else "desk:queue"))
    links = page.locator("header nav a")
    tops = {
        round(box["y"])
        for box in (links.nth(i).bounding_box() for i in range(links.count()))
        if box
    }
    assert len(tops) == 1, f"the navigation takes {len(tops)} rows"
    assert height(page, "header.topbar") < 110
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") == 0
    last = links.last
    for _ in range(30):  # from the top of the page, Tab until the navigation's last link
        page.keyboard.press("Tab")
        if last.evaluate("link => link === document.activeElement"):
            break
    else:
        pytest.fail("the navigation's last link is never reached with Tab")
    box = last.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    settled(page)
    page.close()


def test_a_breadcrumb_link_reads_as_words_and_the_reference_as_code(
    live_server: Any, browser: Any, mid_june: datetime
) -> None:
    world = make_world()
    ticket = open_ticket(world.alice)
    page: Page = browser.new_page(viewport={"width": 1366, "height": 900})
    sign_in(page, live_server.url, world.agent_eu)
    page.goto(live_server.url + reverse("tickets:detail", args=[ticket.reference]))
    assert "monospace" in style(page, "main p.ref", "font-family")  # the reference
    assert "monospace" not in style(page, "main p.ref a", "font-family")  # "Queue"
    page.goto(live_server.url + reverse("desk:canned-new"))
    assert "monospace" not in style(page, "main p.ref a", "font-family")  # "← Back to the list"
    settled(page)
    page.close()


def test_the_queues_bulk_action_waits_for_a_ticket_to_be_chosen(
    live_server: Any, browser: Any, mid_june: datetime
) -> None:
    world = make_world()
    open_ticket(world.alice)
    page: Page = browser.new_page(viewport={"width": 1366, "height": 900})
    sign_in(page, live_server.url, world.agent_eu)
    page.goto(live_server.url + reverse("desk:queue"))
    apply = page.locator("#bulk button[type=submit]")
    assert apply.is_disabled()  # "No ticket selected": nothing to apply to
    box = page.locator("input[name=tickets][form=bulk]").first
    box.check()
    assert apply.is_enabled()
    box.uncheck()
    assert apply.is_disabled()
    settled(page)
    page.close()
