"""The embeddable chat widget in two real browser pages: the customer on a plain page of their
organization's own product (another site, one script tag, a token signed with the
organization's secret), the agent on Pacte's desk. The customer's connection drops; nothing is
lost or repeated; the page is reloaded and the conversation comes back."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import Frame, Page, expect

from sla.models import Calendar, OpeningInterval
from tests.e2e.accounts import sign_in
from tests.e2e.test_chat import always_open
from tests.factories import make_world
from tests.services import asgi_server, static_site
from tickets.channels.chat import services as chat_services
from tickets.channels.chat import widget
from tickets.models import ChatSession, Contact, Message, Organization, Ticket

pytestmark = pytest.mark.django_db(transaction=True)

HOST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Acme Kiosk Manager</title>
<style>body {{ font-family: sans-serif; margin: 0; }} header {{ background: #333; color: #fff;
padding: 1rem 2rem; }} main {{ padding: 2rem; }} .chat-line {{ display: none; }}</style></head>
<body><header>Acme Kiosk Manager</header>
<main><h1>Your kiosks</h1><p>12 kiosks online, 1 offline.</p></main>
<script src="{pacte}/static/js/widget.js" async
  data-organization="acme" data-token="{token}"></script>
</body></html>
"""


def embed(organization: Organization, product: str, domain: str) -> None:
    """What the organization's managers set: a secret, the product's origin, its mail domain."""
    chat_services.organization_chat_secret_rotate(organization=organization)
    organization.chat_origins = product
    organization.chat_domains = domain
    organization.save(update_fields=["chat_origins", "chat_domains"])


def widget_frame(page: Page) -> Frame:
    name = page.locator("[data-pacte-chat] iframe").get_attribute("name")
    frame = page.frame(name=name)
    assert frame is not None
    return frame


def test_widget_on_a_customer_page_and_agent_console(
    browser: Any, screenshots: Path, tmp_path: Path
) -> None:
    world = make_world()
    always_open(world)
    site_dir = tmp_path / "product"
    site_dir.mkdir()
    with asgi_server(tmp_path) as server, static_site(site_dir) as product:
        embed(world.acme, product, "acme.example")
        # The product's own server signs a token for its signed-in user, new to Pacte.
        token = widget.sign_token(
            world.acme, email="dana@acme.example", name="Dana Scott", now=timezone.now()
        )
        (site_dir / "index.html").write_text(HOST_PAGE.format(pacte=server.url, token=token))

        agent: Page = browser.new_page(viewport={"width": 1280, "height": 860})
        sign_in(agent, server.url, world.agent_eu)
        agent.goto(f"{server.url}/desk/")

        customer: Page = browser.new_page(viewport={"width": 1100, "height": 800})
        customer.goto(f"{product}/index.html")
        launcher = customer.get_by_role("button", name="Chat with support")
        launcher.click()
        chat = customer.frame_locator("[data-pacte-chat] iframe")
        expect(chat.get_by_text("Support is open now")).to_be_visible()
        expect(chat.get_by_text("dana@acme.example")).to_be_visible()
        customer.screenshot(path=screenshots / "chat-widget-start.png")
        chat.locator("#id_severity").select_option("blocking")
        chat.locator("#id_text").fill("Kiosk 7 shows a black screen")
        chat.get_by_role("button", name="Start the chat").click()
        expect(chat.locator(".chat-state")).to_have_text("Waiting for an agent…")
        expect(chat.locator(".chat-line")).to_have_count(1)

        banner = agent.locator(".chat-alert")
        expect(banner).to_contain_text("1 chat waiting for an agent", timeout=15_000)
        banner.get_by_role("link").click()
        # Clicked at once, before the agent's connection is open: sent when it opens.
        agent.get_by_role("button", name="Accept").click()
        expect(chat.locator(".chat-state")).to_contain_text("In conversation with")

        chat.locator("#chat-text").press_sequentially("it flickers first", delay=20)
        expect(agent.locator(".chat-typing")).to_have_text("typing…")
        chat.locator("#chat-text").press("Enter")
        expect(agent.locator(".chat-line", has_text="it flickers first")).to_have_count(1)

        hostile = "<script>parent.document.title='owned'</script><b>bold?</b>"
        agent.locator("#chat-text").fill(hostile)
        agent.locator("#chat-text").press("Enter")
        line = chat.locator(".chat-line", has_text="bold?")
        expect(line).to_have_count(1)
        assert line.locator("p").text_content() == hostile
        assert chat.locator(".chat-lines b").count() == 0
        assert customer.title() == "Acme Kiosk Manager"
        customer.screenshot(path=screenshots / "chat-widget-open.png")

        # The customer's connection drops; the agent goes on; nothing is lost or repeated.
        widget_frame(customer).evaluate("window.pacteChatDrop()")
        for text in ("Restarting kiosk 7 remotely.", "Is it back?"):
            agent.locator("#chat-text").fill(text)
            agent.locator("#chat-text").press("Enter")
        expect(chat.locator(".chat-line", has_text="Is it back?")).to_have_count(1)
        expect(chat.locator(".chat-line")).to_have_count(5)
        ids = chat.locator(".chat-line").evaluate_all(
            "lines => lines.map(l => l.getAttribute('data-id'))"
        )
        assert len(set(ids)) == 5

        # Closed panel: a new line from the agent puts a dot on the launcher.
        customer.get_by_role("button", name="Close the chat").click()
        agent.locator("#chat-text").fill("Tell me when you see it.")
        agent.locator("#chat-text").press("Enter")
        expect(customer.locator("[data-pacte-chat] .launcher.unread")).to_have_count(1)

        # A reload of the product's page brings the open conversation back, whole, once.
        customer.get_by_role("button", name="Chat with support · New message").click()
        customer.reload()
        chat = customer.frame_locator("[data-pacte-chat] iframe")
        expect(chat.locator(".chat-line")).to_have_count(6)
        chat.locator("#chat-text").fill("Yes, it is back. Thanks!")
        chat.locator("#chat-text").press("Enter")
        expect(agent.locator(".chat-line", has_text="Yes, it is back.")).to_have_count(1)
        agent.screenshot(path=screenshots / "chat-widget-agent.png", full_page=True)

        agent.get_by_role("button", name="End the chat").click()
        expect(chat.locator(".chat-state")).to_contain_text("dana@acme.example")
        expect(chat.locator("#chat-text")).to_be_disabled()
        expect(chat.get_by_role("button", name="Start a new chat")).to_be_visible()
        customer.screenshot(path=screenshots / "chat-widget-ended.png")

    dana = Contact.objects.select_related("user").get(email="dana@acme.example")
    assert dana.organization == world.acme and dana.name == "Dana Scott"
    assert dana.user is not None and not dana.user.has_usable_password()
    session = ChatSession.objects.get()
    assert session.ticket.requester == dana and session.ticket.severity == "blocking"
    assert session.state == ChatSession.State.ENDED and session.agent == world.agent_eu
    bodies = list(Message.objects.filter(ticket=session.ticket).values_list("body", flat=True))
    assert bodies == [
        "Kiosk 7 shows a black screen",
        "it flickers first",
        hostile,
        "Restarting kiosk 7 remotely.",
        "Is it back?",
        "Tell me when you see it.",
        "Yes, it is back. Thanks!",
    ]


def test_widget_outside_support_hours_in_french(
    browser: Any, screenshots: Path, tmp_path: Path
) -> None:
    """Closed now: the widget says when support opens, in the user's language, and the
    message left becomes a ticket."""
    world = make_world()
    today = timezone.localtime(timezone.now(), ZoneInfo("Europe/Paris")).weekday()
    calendar = Calendar.objects.create(slug="later", name="Later", time_zone="Europe/Paris")
    OpeningInterval.objects.create(
        calendar=calendar, weekday=(today + 3) % 7, start_minute=9 * 60, end_minute=17 * 60
    )
    world.france.calendar = calendar
    world.france.save(update_fields=["calendar"])
    site_dir = tmp_path / "product"
    site_dir.mkdir()
    with asgi_server(tmp_path) as server, static_site(site_dir) as product:
        embed(world.globex, product, "globex.example")
        token = widget.sign_token(
            world.globex,
            email="lea@globex.example",
            name="Léa Martin",
            language="fr",
            now=timezone.now(),
        )
        page = HOST_PAGE.format(pacte=server.url, token=token)
        page = page.replace('lang="en"', 'lang="fr"').replace('"acme"', '"globex"')
        (site_dir / "index.html").write_text(page)

        customer: Page = browser.new_page(viewport={"width": 1100, "height": 800}, locale="fr-FR")
        customer.goto(f"{product}/index.html")
        customer.get_by_role("button", name="Discuter avec le support").click()
        chat = customer.frame_locator("[data-pacte-chat] iframe")
        expect(chat.get_by_text("Le support est fermé ; il ouvre le")).to_be_visible()
        expect(chat.get_by_text("09:00")).to_be_visible()
        customer.screenshot(path=screenshots / "chat-widget-closed-fr.png")
        chat.locator("#id_text").fill("Les badges ne s'impriment plus")
        chat.get_by_role("button", name="Laisser le message").click()
        expect(chat.get_by_text("votre message est le ticket")).to_be_visible()
        expect(chat.locator(".chat-line")).to_have_count(1)
        expect(chat.locator(".chat-state")).to_contain_text("lea@globex.example")
        customer.screenshot(path=screenshots / "chat-widget-left-fr.png")

    ticket = Ticket.objects.get()
    assert ticket.requester.email == "lea@globex.example" and ticket.requester.language == "fr"
    assert ticket.chat.state == ChatSession.State.ENDED and ticket.clocks.count() == 2
