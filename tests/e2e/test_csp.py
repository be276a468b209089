"""The Content-Security-Policy in a real Chromium: the key pages of every role load, and work,
with no violation reported (no inline script, handler or style left, nothing from elsewhere):
login, the portal, a ticket, the queue and its live refresh, the SLA report, availability
(its year chooser), the monthly report (its print button), the chat widget on the managers'
sample page, the API's Swagger UI and the Django admin. Screenshots in var/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Response, expect

from sla.availability import outages
from tests.e2e.accounts import sign_in
from tests.e2e.test_chat import always_open
from tests.e2e.test_journey import t
from tests.factories import World, make_world, open_ticket
from tickets.channels.chat import services
from tickets.models import Ticket, User

pytestmark = pytest.mark.django_db(transaction=True)

# Every frame reports the violations it sees on the console, where the listener below reads
# them along with Chromium's own "Refused to … because it violates … Content Security Policy".
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error("securitypolicyviolation: " + e.violatedDirective + " blocked " + e.blockedURI
    + " at " + e.sourceFile + ":" + e.lineNumber);
});
"""
# window.print() would open the print dialog; the test counts calls instead.
COUNT_PRINTS = "window.__prints = 0; window.print = () => { window.__prints += 1; };"


@dataclass
class Watch:
    violations: list[str] = field(default_factory=list)
    documents: dict[str, str] = field(default_factory=dict)  # url → its CSP header

    def console(self, message: ConsoleMessage) -> None:
        text = message.text
        if "Content Security Policy" in text or "securitypolicyviolation" in text:
            self.violations.append(f"{message.page.url if message.page else '?'}: {text}")

    def response(self, response: Response) -> None:
        if response.request.resource_type == "document":
            self.documents[response.url] = response.headers.get("content-security-policy", "")


@pytest.fixture
def watched(browser: Any) -> Iterator[tuple[BrowserContext, Watch]]:
    context: BrowserContext = browser.new_context(viewport={"width": 1280, "height": 900})
    watch = Watch()
    context.add_init_script(REPORT_VIOLATIONS)
    context.add_init_script(COUNT_PRINTS)
    context.on("console", watch.console)
    context.on("response", watch.response)
    yield context, watch
    context.close()


def data(world: World) -> Ticket:
    always_open(world)
    services.organization_chat_secret_rotate(organization=world.acme)
    world.manager.is_staff = True  # managers configure, and try the widget
    world.manager.save(update_fields=["is_staff"])
    now = timezone.now()
    ticket = open_ticket(world.alice, severity="blocking", received_at=now - timedelta(days=2))
    outages.outage_record(
        organization=world.acme,
        title="Checkout API unreachable",
        started_at=now - timedelta(days=10, hours=2),
        ended_at=now - timedelta(days=10, hours=1),
    )
    return ticket


def test_every_key_page_runs_under_the_policy_without_a_violation(
    live_server: Any,
    watched: tuple[BrowserContext, Watch],
    screenshots: Path,
    mid_june: datetime,  # the server's clock set: the data and pages are the same every day
) -> None:
    world = make_world()
    ticket = data(world)
    admin = User.objects.create_superuser("root", "root@example.test", "pacte-test-admin")
    context, watch = watched
    base = live_server.url
    page: Page = context.new_page()

    # Login, and the language chooser (it had an inline onchange): a choice is sent at once.
    page.goto(f"{base}/accounts/login/")
    page.locator("#lang-select").select_option("fr")
    expect(page.get_by_role("button", name=t("fr", "Sign in"), exact=True)).to_be_visible()
    # The button shows before pacte.js (end of the page) listens for the choice: wait for it.
    page.wait_for_load_state()
    page.locator("#lang-select").select_option("en")
    expect(page.get_by_role("button", name=t("en", "Sign in"), exact=True)).to_be_visible()
    page.screenshot(path=screenshots / "csp-login.png")

    # The customer's portal and ticket.
    sign_in(page, base, world.alice.user)  # type: ignore[arg-type]  # alice signs in
    for path in ("/tickets/", "/tickets/new/", f"/tickets/{ticket.reference}/", "/faq/"):
        page.goto(base + path)
        expect(page.locator("main")).to_be_visible()
    page.get_by_role("button", name=t("en", "Sign out")).click()

    # The agent's queue refreshes itself through htmx (every 2 s in tests), then the ticket.
    sign_in(page, base, world.agent_eu)
    page.goto(f"{base}/desk/")
    expect(page.locator("table.queue")).to_contain_text(ticket.reference)
    with page.expect_response(lambda r: "/desk/" in r.url and r.request.headers.get("hx-request")):
        pass
    expect(page.locator("table.queue")).to_contain_text(ticket.reference)
    page.screenshot(path=screenshots / "csp-queue.png")
    page.goto(f"{base}/tickets/{ticket.reference}/")
    expect(page.locator("#main")).to_contain_text(ticket.subject)
    page.screenshot(path=screenshots / "csp-ticket-agent.png", full_page=True)
    page.get_by_role("button", name=t("en", "Sign out")).click()

    # The manager's reports; the year chooser and the print button had inline handlers.
    sign_in(page, base, world.manager)
    page.goto(f"{base}/desk/reports/")
    expect(page.locator("svg.report-chart")).to_be_visible()
    page.goto(f"{base}/desk/reports/availability/")
    year = page.locator("#year")
    expect(year).to_be_visible()
    other = year.locator("option:not([selected])").first.get_attribute("value")
    with page.expect_navigation():
        year.select_option(other)
    assert f"year={other}" in page.url
    page.screenshot(path=screenshots / "csp-availability.png", full_page=True)
    month = mid_june.strftime("%Y-%m")
    page.goto(f"{base}/desk/reports/monthly/acme/?month={month}")
    page.get_by_role("button", name=t("en", "Print or save as PDF")).click()
    assert page.evaluate("window.__prints") == 1
    page.screenshot(path=screenshots / "csp-monthly-report.png", full_page=True)
    page.emulate_media(media="print")
    expect(page.locator(".topbar")).to_be_hidden()
    page.screenshot(path=screenshots / "csp-monthly-report-print.png", full_page=True)
    page.emulate_media(media="screen")

    # The chat widget on the managers' sample page: the host script, then Pacte's frame.
    page.goto(f"{base}/chat/widget/try/?contact={world.alice.pk}")
    page.get_by_role("button", name="Chat with support").click()
    frame = page.frame_locator("[data-pacte-chat] iframe")
    expect(frame.get_by_text(world.alice.email)).to_be_visible()
    expect(frame.locator("#id_text")).to_be_visible()
    page.screenshot(path=screenshots / "csp-widget.png")

    # The API's documentation: Swagger UI's inline start-up script runs by its nonce.
    page.goto(f"{base}/api/docs/")
    expect(page.locator(".opblock").first).to_be_visible(timeout=15_000)
    expect(page.locator(".opblock-summary-path", has_text="/api/tickets/").first).to_be_visible()
    page.screenshot(path=screenshots / "csp-api-docs.png")

    # The admin, as a superuser: its index, a list and a change form.
    context.clear_cookies()
    sign_in(page, base, admin, password="pacte-test-admin")
    page.goto(f"{base}/admin/")
    expect(page.locator("#site-name")).to_be_visible()
    page.goto(f"{base}/admin/tickets/organization/")
    page.goto(f"{base}/admin/tickets/organization/{world.acme.pk}/change/")
    expect(page.locator("#organization_form")).to_be_visible()
    page.screenshot(path=screenshots / "csp-admin.png")

    assert watch.violations == []
    pages = {url: policy for url, policy in watch.documents.items() if "/static/" not in url}
    assert len(pages) > 15
    for url, policy in pages.items():
        assert "script-src 'self'" in policy, url
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, url
