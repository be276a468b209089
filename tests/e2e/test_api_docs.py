"""The API's documentation in a browser: a customer reads it in French with only the calls a
customer may make, and tries one; an agent, signed in, acknowledges a ticket from it (the page
sends the session's CSRF token with the call, as Swagger UI's start-up script is allowed to)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.accounts import settled, sign_in
from tests.factories import World, make_world, open_ticket

pytestmark = pytest.mark.django_db(transaction=True)


def operation(page: Page, method: str, path: str) -> Any:
    return (
        page.locator(f".opblock-{method.lower()}")
        .filter(has=page.locator(".opblock-summary-path", has_text=path))
        .filter(has_not=page.locator(".opblock-summary-path", has_text=f"{path}messages"))
    )


def test_a_customer_reads_and_tries_the_api_in_french(
    live_server: Any, browser: Any, screenshots: Path
) -> None:
    world: World = make_world()
    ticket = open_ticket(world.alice, subject="Le paiement échoue")
    page: Page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="fr-FR")
    sign_in(page, live_server.url, world.alice.user)
    page.goto(f"{live_server.url}/api/docs/")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", name="L’API de Pacte")).to_be_visible()
    expect(page.get_by_text("Lister les tickets que vous pouvez voir")).to_be_visible()
    expect(page.locator(".opblock-summary-path", has_text="acknowledge")).to_have_count(0)
    expect(page.locator(".opblock-summary-path", has_text="reclassify")).to_have_count(0)

    listing = operation(page, "get", "/api/tickets/").first
    listing.locator(".opblock-summary").click()
    listing.get_by_role("button", name="Try it out").click()
    listing.get_by_role("button", name="Execute").click()
    answer = listing.locator(".live-responses-table tbody .response-col_status").first
    expect(answer).to_have_text("200")
    expect(listing.locator(".live-responses-table")).to_contain_text(ticket.reference)
    page.screenshot(path=screenshots / "api-docs-tried-fr.png", full_page=True)
    expect(page.get_by_role("link", name="Mes tickets")).to_be_visible()  # the way back
    settled(page)
    page.close()


def test_an_agent_acknowledges_a_ticket_from_the_documentation(
    live_server: Any, browser: Any, screenshots: Path
) -> None:
    world: World = make_world()
    ticket = open_ticket(world.alice)
    page: Page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="en-GB")
    sign_in(page, live_server.url, world.agent_eu)
    page.goto(f"{live_server.url}/api/docs/")
    acknowledge = operation(page, "post", "/acknowledge/")
    acknowledge.locator(".opblock-summary").click()
    acknowledge.get_by_role("button", name="Try it out").click()
    acknowledge.locator("input[placeholder=reference]").fill(ticket.reference)
    acknowledge.get_by_role("button", name="Execute").click()
    expect(
        acknowledge.locator(".live-responses-table tbody .response-col_status").first
    ).to_have_text("200")
    page.screenshot(path=screenshots / "api-docs-acknowledged.png", full_page=True)
    settled(page)
    page.close()
    ticket.refresh_from_db()
    assert ticket.status == "acknowledged"
