"""Single sign-on for staff against a real OpenID Connect provider on loopback (django-oauth-
toolkit in its own process): a known member of staff signs in, a first sign-in links by the
verified address, and an unknown, unverified, turned-off or customer address is refused."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from allauth.socialaccount.models import SocialAccount
from playwright.sync_api import Page, expect

from tests.e2e.accounts import settled
from tests.factories import World, make_world
from tests.sso import Provider, oidc_provider
from tickets.models import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)
IDP_PASSWORD = "company-directory-password"


@pytest.fixture
def world() -> World:
    return make_world()


@pytest.fixture
def provider(live_server: Any, world: World, settings: Any, tmp_path: Path) -> Iterator[Provider]:
    world.agent_fr.is_active = False
    world.agent_fr.save(update_fields=["is_active"])
    users = [
        ("e.agent", world.agent_eu.email, IDP_PASSWORD),  # staff, verified
        ("f.agent", world.agent_fr.email, IDP_PASSWORD),  # staff, turned off in Pacte
        ("m.manager", world.manager.email, IDP_PASSWORD),  # staff, address not vouched for
        ("stranger", "stranger@company.example", IDP_PASSWORD),  # nobody in Pacte
        ("alice", world.alice.user.email, IDP_PASSWORD),  # type: ignore[union-attr]  # customer
    ]
    with oidc_provider(
        tmp_path,
        redirect_uri=f"{live_server.url}/accounts/oidc/company/login/callback/",
        users=users,
        unverified=[world.manager.email],
    ) as running:
        settings.SOCIALACCOUNT_PROVIDERS = running.pacte_settings()
        directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
        settings.CONTENT_SECURITY_POLICY = {
            "DIRECTIVES": {**directives, "form-action": ["'self'", running.origin]}
        }
        yield running


def through_the_provider(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_role("button", name="Support staff: Company sign-in").click()
    page.locator("#idp-username").fill(username)
    page.locator("#idp-password").fill(IDP_PASSWORD)
    page.locator("#idp-submit").click()
    page.wait_for_url(re.compile(re.escape(base)))
    page.wait_for_load_state()


def test_a_member_of_staff_signs_in_with_the_companys_provider(
    live_server: Any, browser: Any, screenshots: Path, world: World, provider: Provider
) -> None:
    page: Page = browser.new_page(viewport={"width": 1280, "height": 900})
    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.screenshot(path=screenshots / "sso-sign-in.png", full_page=True)
    through_the_provider(page, base, "e.agent")
    page.goto(f"{base}/desk/")  # the provider's sign-in stands for the second factor
    expect(page.get_by_role("heading", name="Queue")).to_be_visible()
    settled(page)
    link = SocialAccount.objects.get(provider="company")
    assert link.user == world.agent_eu  # linked by the verified address
    # Again: the link is followed, no second account.
    page.context.clear_cookies()
    through_the_provider(page, base, "e.agent")
    page.goto(f"{base}/desk/")
    expect(page.get_by_role("heading", name="Queue")).to_be_visible()
    settled(page)
    assert SocialAccount.objects.count() == 1
    assert AuditEvent.objects.filter(kind="sign_in", actor=world.agent_eu).count() == 2
    page.close()


@pytest.mark.parametrize(
    ("username", "why"),
    [
        ("stranger", "no member of support has"),
        ("m.manager", "does not vouch for"),
        ("f.agent", "turned off"),
        ("alice", "Single sign-on is for support staff"),
    ],
)
def test_refused(
    live_server: Any, browser: Any, screenshots: Path, provider: Provider, username: str, why: str
) -> None:
    page: Page = browser.new_page(viewport={"width": 1280, "height": 900})
    base = live_server.url
    through_the_provider(page, base, username)
    expect(page.get_by_role("heading", name="Single sign-on refused")).to_be_visible()
    expect(page.locator("main")).to_contain_text(why)
    page.screenshot(path=screenshots / f"sso-refused-{username}.png", full_page=True)
    page.goto(f"{base}/desk/")
    expect(page.locator("#id_login")).to_be_visible()  # not signed in
    assert not SocialAccount.objects.exists()
    assert AuditEvent.objects.filter(kind="sign_in_failed").exists()
    page.close()
