"""Signing in through the pages, as a person does: password, then for staff the code of their
authenticator app (enrolled for the test, the code computed by the test)."""

from __future__ import annotations

import subprocess
import time

from playwright.sync_api import Page, expect

from tests.accounts.second_factor import enrol_totp, totp_code
from tests.factories import PASSWORD
from tickets import access
from tickets.models import User


def sign_in(page: Page, base: str, user: User, password: str = PASSWORD) -> None:
    """Sign in on the sign-in page; staff then type their code (enrolled now if need be)."""
    secret = None
    if access.must_pass_second_factor(user):
        secret = enrol_totp(user)
    page.goto(f"{base}/accounts/login/")
    page.locator("#id_login").fill(user.username)
    page.locator("#id_password").fill(password)
    page.locator("main form button[type=submit]").first.click()
    if secret is not None:
        expect(page.locator("#id_code")).to_be_visible()
        # A server in this process shares the test's clock (travelled, maybe); one started as
        # a subprocess keeps the real one: the code of the other clock is tried second. A code
        # typed as its 30-second step ends may be refused: then once more, in the next step.
        for attempt in range(2):
            for at in dict.fromkeys([time.time(), real_time()]):
                page.locator("#id_code").fill(totp_code(secret, at=at))
                page.locator("main form button[type=submit]").first.click()
                page.wait_for_load_state()
                if not page.locator("#id_code").count():
                    break
            if not page.locator("#id_code").count() or attempt:
                break
            time.sleep(30 - time.time() % 30 + 1)
        expect(page.locator("#id_code")).to_have_count(0)  # signed in, or say so here
    page.wait_for_load_state()


def real_time() -> float:
    """The wall clock, whatever time_machine has done to this process's."""
    return float(subprocess.run(["date", "+%s"], capture_output=True, text=True).stdout)


def settled(page: Page) -> None:
    """Wait until the page's own requests are answered (the queue asks for the waiting chats as
    it loads): a test that ends while the live server still answers one races the database
    flush that follows it."""
    page.wait_for_load_state("networkidle")
