"""A customer files a ticket in the browser; an agent claims, answers and resolves it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD, World, make_world
from tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_customer_and_agent_journey(live_server: Any, browser: Any, screenshots: Path) -> None:
    world: World = make_world()
    base = live_server.url
    customer: Page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(customer, base, "alice")
    expect(customer.get_by_role("heading", name="My tickets")).to_be_visible()
    customer.get_by_role("link", name="Report an incident").click()
    customer.get_by_label("Subject").fill("Checkout page returns error 500")
    customer.get_by_text("Blocking", exact=True).click()
    customer.get_by_label("Description").fill("Every payment fails since 10:00.")
    customer.screenshot(path=screenshots / "portal-new-ticket.png", full_page=True)
    customer.get_by_role("button", name="Send").click()
    ticket = Ticket.objects.get()
    expect(customer.get_by_role("heading", name="Checkout page returns error 500")).to_be_visible()
    expect(customer.get_by_text("Our promises")).to_be_visible()
    expect(customer.locator(".clock")).to_have_count(2)
    customer.screenshot(path=screenshots / "portal-ticket.png", full_page=True)

    agent: Page = browser.new_page(viewport={"width": 1400, "height": 900})
    sign_in(agent, base, world.agent_eu.username)
    expect(agent.get_by_role("heading", name="Queue")).to_be_visible()
    agent.screenshot(path=screenshots / "desk-queue.png", full_page=True)
    agent.get_by_role("link", name=ticket.subject).click()
    agent.get_by_role("button", name="Claim").click()
    expect(agent.get_by_text("Assignment updated.")).to_be_visible()
    agent.get_by_label("Message").fill("We are on it: a certificate expired, renewing now.")
    agent.get_by_role("button", name="Send").click()
    expect(agent.locator(".badge.status-acknowledged")).to_be_visible()
    agent.get_by_label("Status").select_option("resolved")
    agent.get_by_role("button", name="Change status").click()
    expect(agent.locator(".badge.status-resolved")).to_be_visible()
    agent.screenshot(path=screenshots / "desk-ticket.png", full_page=True)

    customer.reload()
    expect(customer.get_by_text("a certificate expired")).to_be_visible()
    expect(customer.locator(".badge.status-resolved")).to_be_visible()
    expect(customer.get_by_text("Kept").first).to_be_visible()
    ticket.refresh_from_db()
    assert ticket.status == "resolved" and ticket.assignee == world.agent_eu
