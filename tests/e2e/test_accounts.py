"""Accounts in a real Chromium, in English and French: a forgotten password reset through the
mailed link; a colleague invited by their organization's admin who sets a password and signs
in; sessions listed and one signed out. Screenshots in var/screenshots/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.accounts.mail import INVITATION_LINK, RESET_LINK, mailed_link
from tests.e2e.accounts import sign_in
from tests.e2e.test_journey import speak, t
from tests.factories import PASSWORD, make_world, open_ticket

pytestmark = pytest.mark.django_db(transaction=True)
NEW = "a brand new passphrase 2026"


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_forgotten_password_is_reset_through_the_mailed_link(
    live_server: Any, browser: Any, screenshots: Path, language: str
) -> None:
    world = make_world()
    speak(world.alice.user, language)  # type: ignore[arg-type]
    locale = "fr-FR" if language == "fr" else "en-US"
    page: Page = browser.new_page(viewport={"width": 390, "height": 844}, locale=locale)
    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.get_by_role("link", name=t(language, "Forgot your password?")).click()
    page.locator("#id_email").fill(world.alice.user.email)  # type: ignore[union-attr]
    page.screenshot(path=screenshots / f"password-reset-{language}.png", full_page=True)
    page.get_by_role("button", name=t(language, "Send me a link")).click()
    expect(page.get_by_role("heading", name=t(language, "Check your mail"))).to_be_visible()
    link = mailed_link(RESET_LINK)
    page.goto(f"{base}{link}")
    page.locator("#id_password1").fill(NEW)
    page.locator("#id_password2").fill(NEW)
    page.screenshot(path=screenshots / f"password-new-{language}.png", full_page=True)
    page.get_by_role("button", name=t(language, "Save the new password")).click()
    expect(page.get_by_role("heading", name=t(language, "Password changed"))).to_be_visible()
    sign_in(page, base, world.alice.user, password=NEW)  # type: ignore[arg-type]
    expect(page.get_by_role("link", name=t(language, "My tickets"))).to_be_visible()
    page.close()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_an_admin_invites_a_colleague_who_signs_in(
    live_server: Any, browser: Any, screenshots: Path, language: str
) -> None:
    world = make_world()
    admin = world.amir.user
    assert admin is not None
    speak(admin, language)
    world.amir.language = language
    world.amir.save(update_fields=["language"])
    page: Page = browser.new_page(viewport={"width": 1280, "height": 900})
    base = live_server.url
    sign_in(page, base, admin)
    page.goto(f"{base}/accounts/preferences/")
    page.get_by_role("link", name=t(language, "Your organization's people")).click()
    page.locator("#id_name").fill("Dana Scully")
    page.locator("#id_email").fill("dana@acme.test")
    page.get_by_role("button", name=t(language, "Send the invitation")).click()
    expect(page.get_by_text("dana@acme.test").first).to_be_visible()
    page.screenshot(path=screenshots / f"people-{language}.png", full_page=True)
    link = mailed_link(INVITATION_LINK)
    locale = "fr-FR" if language == "fr" else "en-US"
    guest = browser.new_page(viewport={"width": 390, "height": 844}, locale=locale)
    guest.goto(f"{base}{link}")
    guest.screenshot(path=screenshots / f"invitation-{language}.png", full_page=True)
    guest.locator("#id_new_password1").fill(NEW)
    guest.locator("#id_new_password2").fill(NEW)
    guest.get_by_role("button", name=t(language, "Save my password")).click()
    guest.locator("#id_login").fill("dana")
    guest.locator("#id_password").fill(NEW)
    guest.get_by_role("button", name=t(language, "Sign in"), exact=True).click()
    expect(guest.get_by_role("link", name=t(language, "My tickets"))).to_be_visible()
    guest.close()
    page.close()


def test_sessions_are_listed_and_one_is_signed_out(
    live_server: Any, browser: Any, screenshots: Path
) -> None:
    world = make_world()
    alice = world.alice.user
    assert alice is not None
    base = live_server.url
    laptop = browser.new_context(viewport={"width": 1280, "height": 900})
    phone = browser.new_context(
        viewport={"width": 390, "height": 844},
        user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
    )
    on_laptop, on_phone = laptop.new_page(), phone.new_page()
    sign_in(on_laptop, base, alice, password=PASSWORD)
    sign_in(on_phone, base, alice, password=PASSWORD)
    on_laptop.goto(f"{base}/accounts/sessions/")
    expect(on_laptop.get_by_text("Mobile Safari on iOS (iPhone)")).to_be_visible()
    on_laptop.screenshot(path=screenshots / "sessions.png", full_page=True)
    on_laptop.locator("tr", has_text="iPhone").get_by_role("button", name="Sign out").click()
    expect(on_laptop.get_by_text("That session is signed out.")).to_be_visible()
    on_phone.goto(f"{base}/tickets/")
    expect(on_phone.locator("#id_login")).to_be_visible()  # back to the sign-in page
    laptop.close()
    phone.close()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_manager_reads_the_audit_log_and_erases_a_contact(
    live_server: Any, browser: Any, screenshots: Path, language: str
) -> None:
    world = make_world()
    speak(world.manager, language)
    open_ticket(world.alice, subject=f"Printer broken, says {world.alice.name}")
    page: Page = browser.new_page(viewport={"width": 1280, "height": 900})
    base = live_server.url
    sign_in(page, base, world.manager)
    page.get_by_role("link", name=t(language, "Audit log")).click()
    page.locator("#id_kind").select_option("sign_in")
    page.get_by_role("button", name=t(language, "Filter")).click()
    # The manager, by name (the username is the cell's tooltip).
    expect(page.locator("tbody")).to_contain_text(world.manager.get_full_name())
    page.screenshot(path=screenshots / f"audit-log-{language}.png", full_page=True)
    page.get_by_role("link", name=t(language, "Personal data")).click()
    page.locator("#q").fill(world.alice.email)
    page.get_by_role("button", name=t(language, "Find")).click()
    page.locator(f"#confirm-{world.alice.pk}").fill(world.alice.email)
    page.screenshot(path=screenshots / f"personal-data-{language}.png", full_page=True)
    page.get_by_role("button", name=t(language, "Erase this person")).click()
    expect(page.locator(".flash")).to_be_visible()
    world.alice.refresh_from_db()
    assert world.alice.name.startswith("[erased]")
    page.close()
