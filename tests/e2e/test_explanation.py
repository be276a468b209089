"""Why this deadline, in a real Chromium, in English and French, for the customer and the
agent: the whole path from the clock's start to its due instant, what is still to come
included; screenshots in var/screenshots/.

The server's clock is Wednesday 17 June 2026 10:00 (Paris); the blocking ticket arrived the
Friday before at 15:00 on the Europe desk (Berlin, open until 16:00 on Fridays), so its five
business hours to acknowledge are Friday 15–16 and Monday 09–13: due Monday 15 June 13:00,
already late; its correction (one business day) runs on."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.accounts import sign_in
from tests.e2e.test_journey import speak, t
from tests.factories import make_world, open_ticket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_customer_and_the_agent_read_the_same_path(
    live_server: Any, browser: Any, screenshots: Path, language: str, mid_june: datetime
) -> None:
    world = make_world()
    friday = mid_june - timedelta(days=5, hours=-5)  # Friday 12 June 15:00 Paris
    ticket = open_ticket(world.alice, severity="blocking", received_at=friday)
    for user in (world.alice.user, world.agent_eu):
        speak(user, language)  # type: ignore[arg-type]
    locale = "fr-FR" if language == "fr" else "en-US"
    sums = {}
    for who, user in (("customer", world.alice.user), ("agent", world.agent_eu)):
        page: Page = browser.new_page(viewport={"width": 1280, "height": 900}, locale=locale)
        sign_in(page, live_server.url, user)
        page.goto(f"{live_server.url}/tickets/{ticket.reference}/")
        page.get_by_role("link", name=t(language, "Why this deadline?")).first.click()
        expect(page.locator("table.explain")).to_be_visible()
        sums[who] = page.locator("p.lead").first.inner_text()
        expect(page.locator("table.explain")).to_contain_text(t(language, "Weekend"))
        expect(page.locator("dl.facts")).to_contain_text(t(language, "Late by"))  # 18 h of 5
        if language == "en":
            assert sums[who].startswith("Fri 12 Jun 2026, 15:00 + 5 h of business hours = ")
        else:
            assert sums[who].startswith("ven. 12 juin 2026 à 15:00 + 5 h en heures ouvrées = ")
        page.screenshot(path=screenshots / f"explanation-{who}-{language}.png", full_page=True)
        page.close()
    assert sums["customer"] == sums["agent"]  # the same facts
