"""The manager's SLA report with its charts and an organization's public status page, in a
real Chromium, in English and French; screenshots in var/screenshots/.

The clock is set to a Wednesday in mid-June (it keeps ticking, so pages and the browser wait
as usual): the tickets filed 3–7 days before are in "this year" and "this month" on any day
the test runs."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from sla.availability import outages
from tests.e2e.accounts import sign_in
from tests.e2e.test_journey import speak, t
from tests.factories import make_world, open_ticket
from tickets import services

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_report_dashboard_and_status_page(
    live_server: Any, browser: Any, screenshots: Path, language: str, mid_june: datetime
) -> None:
    world = make_world()
    speak(world.manager, language)
    now = timezone.now()
    assert now.year == 2026 and (now - timedelta(days=7)).year == 2026
    for i, severity in enumerate(["blocking", "major", "minor", "major", "blocking"]):
        ticket = open_ticket(
            world.alice, severity=severity, received_at=now - timedelta(days=3 + i)
        )
        if i == 0:
            services.ticket_reclassify(
                ticket=ticket, actor=world.agent_eu, severity="major", reason="One kiosk only"
            )
        services.ticket_acknowledge(ticket=ticket, actor=world.agent_eu)
    outages.outage_record(
        organization=world.acme,
        title="Checkout API unreachable",
        started_at=now - timedelta(days=10, hours=2),
        ended_at=now - timedelta(days=10, hours=1),
    )
    outages.maintenance_announce(
        organization=world.acme,
        title="Database upgrade",
        starts_at=now + timedelta(days=3),
        ends_at=now + timedelta(days=3, hours=2),
        announced_at=now,
    )

    locale = "fr-FR" if language == "fr" else "en-US"
    page: Page = browser.new_page(viewport={"width": 1280, "height": 900}, locale=locale)
    sign_in(page, live_server.url, world.manager)
    page.get_by_role("link", name=t(language, "Reports")).click()
    expect(page.get_by_role("heading", name=t(language, "SLA report"))).to_be_visible()
    page.locator("#id_period").select_option("year")
    page.get_by_role("button", name=t(language, "Show")).click()
    expect(page.locator(".kpi-value").first).to_have_text("5")
    expect(page.locator("svg.report-chart rect.bar")).not_to_have_count(0)
    assert page.locator("svg.report-chart").bounding_box()["height"] > 100  # type: ignore[index]
    changes = page.locator("section[aria-labelledby=changes-title] tbody tr")
    expect(changes).to_have_count(1)
    expect(changes.first).to_contain_text("One kiosk only")
    page.screenshot(path=screenshots / f"report-dashboard-{language}.png", full_page=True)
    with page.expect_download() as download:
        page.get_by_role("link", name=t(language, "Download CSV")).click()
    assert download.value.suggested_filename.endswith(".csv")

    # The monthly report of one organization prints without the application around it.
    month = "2026-06"
    page.goto(f"{live_server.url}/desk/reports/monthly/acme/?month={month}")
    expect(page.locator(".monthly-report h1")).to_contain_text("Acme")
    page.emulate_media(media="print")
    expect(page.locator(".topbar")).to_be_hidden()
    expect(page.locator(".no-print")).to_be_hidden()
    pdf = screenshots / f"monthly-report-{language}.pdf"
    page.pdf(path=pdf, format="A4", print_background=True)
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 10_000

    status: Page = browser.new_page(viewport={"width": 1100, "height": 900}, locale=locale)
    status.goto(f"{live_server.url}/status/acme/")
    expect(status.get_by_text(t(language, "All systems operational"))).to_be_visible()
    expect(status.get_by_text("Checkout API unreachable")).to_be_visible()
    expect(status.get_by_text("Database upgrade")).to_be_visible()
    expect(status.locator("svg.status-bars rect")).to_have_count(90)
    status.screenshot(path=screenshots / f"status-page-{language}.png", full_page=True)
