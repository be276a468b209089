"""An organization's administrator reads its promises and its month, with the service credit
its contract owes, in a real Chromium, in English and French; screenshots in var/screenshots/.

The server's clock is Wednesday 17 June 2026. Acme's contract: 1,000.00 a month, credits
capped at 30 %, availability under 99.5 % owes 10 %, under 99 % 25 %. In May, an 8-hour
outage: 1 − 8 h ÷ 744 h = 98.925 %, so 25 %: 250.00."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation
from playwright.sync_api import Page, expect

from sla.availability import outages
from sla.models import Contract, ServiceCredit
from tests.e2e.accounts import sign_in
from tests.e2e.test_journey import speak, t
from tests.factories import make_world
from tickets.templatetags.pacte import percentage

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_an_organization_admin_reads_its_promises_and_its_credit(
    live_server: Any, browser: Any, screenshots: Path, language: str, mid_june: datetime
) -> None:
    world = make_world()
    contract = Contract.objects.create(
        organization=world.acme, reference="ACME-2026", starts_on=date(2026, 1, 1),
        ends_on=date(2026, 12, 31), monthly_fee=Decimal("1000.00"),
        credit_cap_percent=Decimal("30"),
    )  # fmt: skip
    for below, percent in (("99.5", "10"), ("99.0", "25")):
        ServiceCredit.objects.create(
            contract=contract, basis="availability", below_percent=Decimal(below),
            percent=Decimal(percent),
        )  # fmt: skip
    start = datetime(2026, 5, 20, 8, tzinfo=ZoneInfo("Europe/Berlin"))
    outages.outage_record(
        organization=world.acme, title="Database lost", started_at=start,
        ended_at=start + timedelta(hours=8),
    )  # fmt: skip
    user = world.amir.user
    speak(user, language)  # type: ignore[arg-type]
    locale = "fr-FR" if language == "fr" else "en-US"
    page: Page = browser.new_page(viewport={"width": 1280, "height": 900}, locale=locale)
    sign_in(page, live_server.url, user)
    page.goto(f"{live_server.url}/tickets/")
    page.get_by_role("link", name=t(language, "Our promises")).click()
    expect(page.get_by_role("heading", name=t(language, "Service levels"))).to_be_visible()
    expect(page.locator("table").first).to_contain_text(t(language, "Blocking"))
    page.screenshot(path=screenshots / f"service-levels-{language}.png", full_page=True)
    page.goto(f"{live_server.url}/tickets/reports/?month=2026-05")
    credit = page.locator("section.credit")
    expect(credit).to_contain_text(t(language, "Service credit"))
    with translation.override(language):
        expect(credit).to_contain_text(percentage(25))  # "25%", "25 %"
    expect(credit).to_contain_text("250")
    expect(credit).to_contain_text("EUR")
    page.screenshot(path=screenshots / f"monthly-credit-{language}.png", full_page=True)
    page.close()
