"""Collision detection in two real browsers on two servers joined by the Redis channel layer,
as in production (issue 23, point 2): Anna sees Maria open the ticket and write a reply; when
Anna sends hers after Maria's, it is held once, Maria's shown first, Anna's text kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.accounts import sign_in
from tests.e2e.test_chat import servers
from tests.factories import World, make_world, open_ticket
from tickets.models import Message

pytestmark = pytest.mark.django_db(transaction=True)


def test_agents_see_each_other_and_a_late_reply_is_held(
    browser: Any, screenshots: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    world: World = make_world()
    world.manager.first_name, world.manager.last_name = "Maria", "Lopez"
    world.manager.save()
    ticket = open_ticket(world.alice, subject="Receipts do not print")
    with servers("redis", request, tmp_path) as (anna_base, maria_base):
        anna: Page = browser.new_page(viewport={"width": 1366, "height": 900})
        sign_in(anna, anna_base, world.agent_eu)
        anna.goto(f"{anna_base}/tickets/{ticket.reference}/")
        maria: Page = browser.new_page(viewport={"width": 1366, "height": 900})
        sign_in(maria, maria_base, world.manager)
        maria.goto(f"{maria_base}/tickets/{ticket.reference}/")

        presence = anna.locator("#presence")
        expect(presence).to_contain_text("Maria Lopez is viewing this ticket")
        anna.get_by_role("textbox", name="Message").fill("We are looking into it.")
        maria.get_by_role("textbox", name="Message").press_sequentially("I called", delay=20)
        expect(presence).to_contain_text("Maria Lopez is writing a reply…")
        expect(maria.locator("#presence")).to_contain_text("is writing a reply…")  # Anna too
        anna.screenshot(path=screenshots / "desk-ticket-presence-en.png", full_page=True)
        maria.get_by_role("textbox", name="Message").fill("I called them: fixed.")
        maria.get_by_role("button", name="Send", exact=True).click()
        expect(maria.get_by_text("I called them: fixed.")).to_be_visible()

        anna.get_by_role("button", name="Send", exact=True).click()
        expect(anna.locator("#newer")).to_be_visible()
        expect(anna.locator(".msg.newer")).to_contain_text("I called them: fixed.")
        expect(anna.get_by_role("textbox", name="Message")).to_have_value("We are looking into it.")
        assert not Message.objects.filter(body="We are looking into it.").exists()
        anna.get_by_role("button", name="Send", exact=True).click()
        expect(anna.get_by_text("We are looking into it.")).to_be_visible()
        expect(anna.locator("#newer")).to_have_count(0)
        assert Message.objects.filter(body="We are looking into it.").count() == 1
