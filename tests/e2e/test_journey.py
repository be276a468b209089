"""The daily journey in a real Chromium, in English and in French: a customer finds the help
centre's suggestion, files a ticket and sees the promised times; an agent finds it in the queue
with its SLA badge, claims, acknowledges, answers and resolves it; the customer sees each step."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation
from django.utils.translation import gettext, pgettext
from playwright.sync_api import Page, expect

from tests.e2e.accounts import sign_in
from tests.factories import World, make_world
from tickets.models import Article, ProductArea, Ticket, User

pytestmark = pytest.mark.django_db(transaction=True)

SUBJECTS = {
    "en": ("Checkout page returns error 500", "Every payment fails since 10:00."),
    "fr": (
        "La page de paiement renvoie une erreur 500",
        "Tous les paiements échouent depuis 10 h.",
    ),
}
REPLY = {
    "en": "We are on it: a certificate expired, renewing now.",
    "fr": "Nous nous en occupons : un certificat a expiré, renouvellement en cours.",
}


def t(language: str, text: str, context: str = "") -> str:
    """The label as the page shows it in that language (from the compiled catalogue)."""
    with translation.override(language):
        return pgettext(context, text) if context else gettext(text)


def speak(user: User, language: str) -> None:
    user.language = language
    user.save(update_fields=["language"])


@pytest.mark.parametrize("language", ["en", "fr"])
def test_customer_and_agent_journey(
    live_server: Any, browser: Any, screenshots: Path, language: str
) -> None:
    world: World = make_world()
    alice, agent_user = world.alice.user, world.agent_eu
    assert alice is not None
    speak(alice, language)
    speak(agent_user, language)
    subject, description = SUBJECTS[language]
    area = ProductArea.objects.create(name="Payments", slug="payments")
    faq_title = {
        "en": "Payment errors after a certificate change",
        "fr": "Erreurs de paiement après un changement de certificat",
    }[language]
    Article.objects.create(
        area=area,
        title=faq_title,
        slug=f"payment-{language}",
        language=language,
        body="…",
        keywords="payment paiement erreur error 500",
    )
    base = live_server.url
    locale = {"en": "en-GB", "fr": "fr-FR"}[language]

    customer: Page = browser.new_page(viewport={"width": 1280, "height": 900}, locale=locale)
    sign_in(customer, base, alice)
    expect(customer.get_by_role("heading", name=t(language, "My tickets"))).to_be_visible()
    expect(customer.get_by_role("heading", name=t(language, "Support hours"))).to_be_visible()
    customer.get_by_role("link", name=t(language, "Report an incident")).click()
    customer.get_by_label(t(language, "Subject")).press_sequentially(subject, delay=5)
    # The help centre suggests an article while the subject is typed.
    expect(customer.locator("#faq-suggestions").get_by_role("link", name=faq_title)).to_be_visible()
    customer.get_by_text(t(language, "Blocking"), exact=True).click()
    customer.get_by_label(t(language, "Description")).fill(description)
    customer.screenshot(path=screenshots / f"portal-new-ticket-{language}.png", full_page=True)
    customer.get_by_role("button", name=t(language, "Send")).click()
    expect(customer.get_by_role("heading", name=subject)).to_be_visible()
    ticket = Ticket.objects.get()
    expect(customer.get_by_text(t(language, "Our promises"))).to_be_visible()
    expect(customer.locator(".clock")).to_have_count(2)
    customer.screenshot(path=screenshots / f"portal-ticket-{language}.png", full_page=True)

    agent: Page = browser.new_page(viewport={"width": 1400, "height": 900}, locale=locale)
    sign_in(agent, base, agent_user)
    expect(agent.get_by_role("heading", name=t(language, "Queue"))).to_be_visible()
    row = agent.locator("table.queue tbody tr", has_text=subject)
    expect(row.locator(".badge.sla-ok, .badge.sla-warning, .badge.sla-breached")).to_be_visible()
    agent.screenshot(path=screenshots / f"desk-queue-{language}.png", full_page=True)
    # The queue refreshes itself: a change made elsewhere shows up without a reload.
    from tickets import services

    expect(row.locator("td").nth(7)).to_have_text("—")
    services.ticket_assign(ticket=ticket, actor=agent_user, assignee=agent_user)
    expect(row.locator("td").nth(7)).to_have_text(agent_user.get_full_name() or "agent_eu")
    services.ticket_assign(ticket=ticket, actor=agent_user, assignee=None)
    expect(row.locator("td").nth(7)).to_have_text("—")
    row.get_by_role("link", name=re.compile(re.escape(subject))).click()
    agent.get_by_role("button", name=t(language, "Claim")).click()
    expect(agent.get_by_text(t(language, "Assignment updated."))).to_be_visible()
    agent.get_by_role("button", name=t(language, "Acknowledge")).click()
    expect(agent.locator(".badge.status-acknowledged")).to_be_visible()

    customer.reload()
    expect(customer.locator(".badge.status-acknowledged")).to_be_visible()
    expect(customer.locator(".clock.sla-met")).to_have_count(1)

    agent.get_by_role("textbox", name=t(language, "Message")).fill(REPLY[language])
    agent.get_by_role("button", name=t(language, "Send"), exact=True).click()
    expect(agent.get_by_text(REPLY[language])).to_be_visible()
    agent.locator("select#id_status").select_option("resolved")
    agent.get_by_role("button", name=t(language, "Change status")).click()
    expect(agent.locator(".badge.status-resolved")).to_be_visible()
    agent.screenshot(path=screenshots / f"desk-ticket-{language}.png", full_page=True)

    customer.reload()
    expect(customer.get_by_text(REPLY[language])).to_be_visible()
    expect(customer.locator(".badge.status-resolved")).to_be_visible()
    kept = t(language, "Kept on %(done)s (promised by %(due)s)").split("%")[0].strip()
    expect(customer.get_by_text(kept).first).to_be_visible()
    customer.screenshot(path=screenshots / f"portal-resolved-{language}.png", full_page=True)
    # On a phone: nothing wider than the screen.
    for page, name in ((customer, "portal"), (agent, "desk-queue")):
        page.set_viewport_size({"width": 390, "height": 844})
        if name == "desk-queue":
            page.goto(f"{base}/desk/?view=all")
        else:
            page.goto(f"{base}/tickets/")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=screenshots / f"{name}-phone-{language}.png", full_page=True)
    ticket.refresh_from_db()
    assert ticket.status == "resolved" and ticket.assignee == agent_user
    assert ticket.channel == "web"
