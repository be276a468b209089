"""Password guessing paused on the sign-in page, in a real Chromium, in English and French;
screenshots in var/screenshots/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_journey import t
from tests.factories import PASSWORD, make_world

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_wrong_passwords_pause_the_sign_in(
    live_server: Any, browser: Any, screenshots: Path, language: str
) -> None:
    make_world()
    locale = "fr-FR" if language == "fr" else "en-US"
    page: Page = browser.new_page(viewport={"width": 1280, "height": 800}, locale=locale)

    def attempt(password: str) -> None:
        page.goto(f"{live_server.url}/accounts/login/")
        page.locator("#id_login").fill("alice")
        page.locator("#id_password").fill(password)
        page.get_by_role("button", name=t(language, "Sign in"), exact=True).click()

    for _ in range(4):
        attempt("guess")
        expect(page.locator("#id_password")).to_be_visible()  # the form again, with its error
    attempt("guess")
    expect(page.get_by_role("heading", name=t(language, "Sign-in paused"))).to_be_visible()
    page.screenshot(path=screenshots / f"sign-in-paused-{language}.png", full_page=True)
    attempt(PASSWORD)  # the right password, refused while paused
    expect(page.get_by_role("heading", name=t(language, "Sign-in paused"))).to_be_visible()
    page.get_by_role("link", name=t(language, "Back to sign-in")).click()
    expect(page.locator("#id_login")).to_be_visible()
    page.close()
