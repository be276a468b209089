"""The agent's day in a real Chromium (issue 23): deadlines that compare across rows, a filter
applied in place that sends one request and brings its tools, waiting chats as the queue's
first rows, and a reply that sets the status in the same click."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from playwright.sync_api import Page, Request, expect

from tests.e2e.accounts import settled, sign_in
from tests.factories import World, make_world, open_ticket
from tickets.channels.chat.services import chat_start
from tickets.models import Status, Ticket

pytestmark = pytest.mark.django_db(transaction=True)


def _queue_requests(page: Page) -> list[str]:
    """The queue table's requests htmx sends for a filter (not its own refresh)."""
    seen: list[str] = []

    def note(request: Request) -> None:
        headers = request.headers
        if headers.get("hx-target") == "queue-table" and "x-pacte-poll" not in headers:
            seen.append(request.url)

    page.on("request", note)
    return seen


def test_queue_filters_in_place_once_and_waiting_chats_lead(
    live_server: Any, browser: Any, screenshots: Path, mid_june: Any
) -> None:
    world: World = make_world()
    open_ticket(world.alice, subject="Kiosk screens black", severity="blocking")
    open_ticket(world.amir, subject="Typo on the invoice", severity="minor")
    page: Page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="en-GB")
    sign_in(page, live_server.url, world.agent_eu)
    settled(page)
    rows = page.locator("table.queue tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first.locator("td.due time")).to_have_text("today 15:00")  # 5 business hours
    sent = _queue_requests(page)

    page.locator("#id_severity").select_option("blocking")
    expect(rows).to_have_count(1)
    expect(page.get_by_role("button", name="Save the view")).to_be_visible()
    expect(page.get_by_role("link", name="Clear the filters")).to_be_visible()
    page.locator("#id_q").press_sequentially("Kiosk", delay=30)
    page.wait_for_timeout(700)
    page.locator("#id_q").press("Tab")  # leaving the box sent the same request again
    page.wait_for_timeout(700)
    settled(page)
    assert len(sent) == 2, sent
    assert "severity=blocking" in sent[0] and "q=Kiosk" in sent[1]
    expect(rows).to_have_count(1)
    page.get_by_label("Name of the view").fill("Blocking kiosks")
    page.get_by_role("button", name="Save the view").click()
    expect(page.get_by_role("link", name="Blocking kiosks")).to_be_visible()

    with time_machine.travel(mid_june + timedelta(minutes=1)):
        chat = chat_start(contact=world.alice, actor=world.alice.user, text="Help", severity="")
    page.goto(f"{live_server.url}/desk/?view=all")
    first = rows.first
    expect(first.locator(".badge.chat-waiting")).to_have_text("chat waiting")
    page.screenshot(path=screenshots / "desk-queue-chat-row-en.png", full_page=True)
    first.get_by_role("link").click()
    expect(page).to_have_url(f"{live_server.url}/chat/{chat.ticket.reference}/")


def test_send_and_mark_resolved(live_server: Any, browser: Any, mid_june: Any) -> None:
    world: World = make_world()
    ticket = open_ticket(world.alice, subject="Receipts do not print")
    page: Page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="fr-FR")
    world.agent_eu.language = "fr"
    world.agent_eu.save(update_fields=["language"])
    sign_in(page, live_server.url, world.agent_eu)
    page.goto(f"{live_server.url}/tickets/{ticket.reference}/")
    page.get_by_role("textbox", name="Message").fill("Corrigé : redémarrez l’imprimante.")
    page.get_by_role("button", name="Envoyer et marquer résolu").click()
    expect(page.locator(".badge.status-resolved").first).to_be_visible()
    expect(page.get_by_text("Corrigé : redémarrez l’imprimante.")).to_be_visible()
    assert Ticket.objects.get(pk=ticket.pk).status == Status.RESOLVED


def test_a_rating_link_in_the_mail_records_in_one_click(
    live_server: Any, browser: Any, screenshots: Path, mid_june: Any
) -> None:
    """The customer clicks "Bad" in the resolution mail: the page opens, records it at once
    and asks for a comment, in the customer's language, without signing in."""
    from tickets.models import SatisfactionRating
    from tickets.services.satisfaction import satisfaction_token

    world: World = make_world()
    ticket = open_ticket(world.alice, subject="Receipts do not print")
    from tickets import services

    services.ticket_reply(
        ticket=ticket, author=world.agent_eu, body="Done.", then_status="resolved"
    )
    page: Page = browser.new_page(viewport={"width": 390, "height": 844}, locale="fr-FR")
    page.goto(f"{live_server.url}/satisfaction/{satisfaction_token(ticket)}/?score=bad")
    expect(page.locator(".alert.success")).to_be_visible()
    assert SatisfactionRating.objects.get().score == "bad"
    page.get_by_role("textbox").fill("Trois jours d’attente.")
    page.get_by_role("button").last.click()
    expect(page.locator(".alert.success")).to_be_visible()
    page.screenshot(path=screenshots / "satisfaction-phone.png", full_page=True)
    assert SatisfactionRating.objects.get().comment == "Trois jours d’attente."


def test_the_new_deadlines_preview_fits_the_sidebar(
    live_server: Any, browser: Any, screenshots: Path, mid_june: Any
) -> None:
    world: World = make_world()
    ticket = open_ticket(world.alice, subject="Receipts do not print", severity="minor")
    page: Page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="fr-FR")
    world.agent_eu.language = "fr"
    world.agent_eu.save(update_fields=["language"])
    sign_in(page, live_server.url, world.agent_eu)
    page.goto(f"{live_server.url}/tickets/{ticket.reference}/")
    form = page.locator("form#reclassify")
    expect(form).to_be_hidden()  # folded under the severity card: the agent opens it
    page.locator("#reclassify-tool > summary").click()
    form.locator("select[name=severity]").select_option("blocking")
    form.locator("input[name=reason]").fill("Toutes les bornes sont touchées")
    form.get_by_role("button").click()
    preview = page.locator(".preview")
    expect(preview).to_be_visible()
    card = page.locator("section.card", has=preview)
    assert card.evaluate("el => el.scrollWidth <= el.clientWidth"), "the preview overflows"
    box, inner = card.bounding_box(), preview.bounding_box()
    assert box is not None and inner is not None
    assert inner["x"] + inner["width"] <= box["x"] + box["width"]
    preview.screenshot(path=screenshots / "desk-reclassify-preview-fr.png")
