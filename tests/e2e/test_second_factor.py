"""Second factors in a real Chromium, in English and French: an agent enrols an authenticator
app and reaches the desk; signs in with a code computed by the test, a recovery code, and a
passkey held by Chromium's virtual authenticator (DevTools' WebAuthn domain); a wrong code is
refused. Screenshots in var/screenshots/."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from playwright.sync_api import Page, expect

from tests.accounts.second_factor import enrol_totp, totp_code
from tests.e2e.accounts import settled, sign_in
from tests.e2e.test_journey import speak, t
from tests.factories import PASSWORD, make_world

pytestmark = pytest.mark.django_db(transaction=True)


def password_step(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.locator("#id_login").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form button[type=submit]").first.click()


def submit(page: Page) -> None:
    page.locator("main form button[type=submit]").first.click()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_an_agent_enrols_an_authenticator_app_to_reach_the_desk(
    live_server: Any, browser: Any, screenshots: Path, language: str
) -> None:
    world = make_world()
    speak(world.agent_eu, language)
    page: Page = browser.new_page(viewport={"width": 1280, "height": 900})
    base = live_server.url
    password_step(page, base, "agent_eu")
    # Straight to the second-factor page: the desk is closed without one.
    expect(page).to_have_url(f"{base}/accounts/2fa/?next=%2F")
    needed = (
        "Support staff need a second factor: add an authenticator app or a passkey "
        "to reach the desk."
    )
    expect(page.locator(".flash")).to_contain_text(t(language, needed))
    page.screenshot(path=screenshots / f"mfa-required-{language}.png", full_page=True)
    page.goto(f"{base}/desk/")
    expect(page).to_have_url(f"{base}/accounts/2fa/?next=%2Fdesk%2F")
    page.goto(f"{base}/accounts/2fa/totp/activate/")
    page.locator("#id_password").fill(PASSWORD)  # adding a factor asks for the password again
    submit(page)
    secret = page.locator("#authenticator_secret").input_value()
    page.screenshot(path=screenshots / f"mfa-activate-{language}.png", full_page=True)
    page.locator("#id_code").fill("000000" if totp_code(secret) != "000000" else "111111")
    submit(page)
    expect(page.locator(".has-error")).to_be_visible()  # a wrong code is refused
    page.locator("#id_code").fill(totp_code(secret))
    submit(page)
    expect(page).to_have_url(f"{base}/accounts/2fa/recovery-codes/")
    page.screenshot(path=screenshots / f"mfa-recovery-codes-{language}.png", full_page=True)
    page.goto(f"{base}/desk/")
    expect(page.get_by_role("heading", name=t(language, "Queue"))).to_be_visible()
    settled(page)
    page.close()


def test_sign_in_with_a_code_refuses_a_wrong_one(
    live_server: Any, browser: Any, screenshots: Path
) -> None:
    world = make_world()
    secret = enrol_totp(world.agent_eu)
    page: Page = browser.new_page(viewport={"width": 1280, "height": 900})
    base = live_server.url
    password_step(page, base, "agent_eu")
    expect(page).to_have_url(f"{base}/accounts/2fa/authenticate/")
    page.locator("#id_code").fill("123456" if totp_code(secret) != "123456" else "654321")
    submit(page)
    expect(page.locator(".has-error")).to_be_visible()
    page.screenshot(path=screenshots / "mfa-wrong-code.png", full_page=True)
    page.locator("#id_code").fill(totp_code(secret))
    submit(page)
    page.goto(f"{base}/desk/")
    expect(page.get_by_role("heading", name="Queue")).to_be_visible()
    settled(page)
    page.close()


def test_sign_in_with_a_recovery_code(live_server: Any, browser: Any) -> None:
    world = make_world()
    enrol_totp(world.agent_eu)
    codes = RecoveryCodes.activate(world.agent_eu).get_unused_codes()
    page: Page = browser.new_page(viewport={"width": 1280, "height": 900})
    base = live_server.url
    password_step(page, base, "agent_eu")
    page.locator("#id_code").fill(codes[0])
    submit(page)
    page.goto(f"{base}/desk/")
    expect(page.get_by_role("heading", name="Queue")).to_be_visible()
    settled(page)
    assert (
        codes[0]
        not in RecoveryCodes(
            Authenticator.objects.get(user=world.agent_eu, type="recovery_codes")
        ).get_unused_codes()
    )
    page.close()


def test_a_passkey_from_chromiums_virtual_authenticator(
    live_server: Any, browser: Any, screenshots: Path
) -> None:
    world = make_world()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page: Page = context.new_page()
    devtools = context.new_cdp_session(page)
    devtools.send("WebAuthn.enable")
    devtools.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    base = live_server.url
    sign_in(page, base, world.agent_eu)  # with an authenticator app
    page.goto(f"{base}/accounts/2fa/webauthn/add/")
    if page.locator("#id_password").count():  # adding a factor asks for the password again
        page.locator("#id_password").fill(PASSWORD)
        submit(page)
    name = page.locator("main #id_name")
    expect(name).to_be_editable()
    name.fill("Laptop")
    page.locator("main #id_passwordless").check()
    page.screenshot(path=screenshots / "mfa-passkey-add.png", full_page=True)
    page.locator("#mfa_webauthn_add").click()
    expect(page).not_to_have_url(f"{base}/accounts/2fa/webauthn/add/")
    assert Authenticator.objects.filter(user=world.agent_eu, type="webauthn").count() == 1
    # Sign out, then in with the passkey alone: no password, no code.
    page.goto(f"{base}/accounts/logout/")
    submit(page)
    page.goto(f"{base}/accounts/login/")
    page.screenshot(path=screenshots / "mfa-passkey-sign-in.png", full_page=True)
    page.locator("#passkey_login").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))
    page.goto(f"{base}/desk/")
    expect(page.get_by_role("heading", name="Queue")).to_be_visible()
    settled(page)
    context.close()
