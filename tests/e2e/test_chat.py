"""Live chat in two real browser pages: the customer on the portal's chat, the agent on the
desk, through the product's ASGI server (uvicorn, WebSockets). The customer's connection drops
mid-conversation; nothing is lost or repeated; what was typed is shown as text, never HTML.

Twice: one server on the in-memory channel layer, and, as in production, the Redis layer
with the customer and the agent on two servers, so every line crosses processes through a
real redis-server (REDIS_URL in CI, else a private one)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from sla.models import Calendar, OpeningInterval
from tests.e2e.accounts import sign_in
from tests.factories import World, make_world
from tests.services import asgi_server
from tickets.models import ChatSession, Message

pytestmark = pytest.mark.django_db(transaction=True)


def always_open(world: World) -> None:
    """The desk answers around the clock, so the test does not depend on when CI runs."""
    calendar = Calendar.objects.create(slug="always", name="Always", time_zone="Europe/Berlin")
    OpeningInterval.objects.bulk_create(
        OpeningInterval(calendar=calendar, weekday=day, start_minute=0, end_minute=1440)
        for day in range(7)
    )
    world.europe.calendar = calendar
    world.europe.save(update_fields=["calendar"])


@contextmanager
def servers(layer: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[list[str]]:
    """The addresses of the agent's server and the customer's (the same one in memory)."""
    with ExitStack() as stack:
        if layer == "memory":
            url = stack.enter_context(asgi_server(tmp_path)).url
            yield [url, url]
            return
        env = {
            "PACTE_TEST_REDIS_CHANNEL_LAYER": "true",
            "REDIS_URL": request.getfixturevalue("redis_url"),
        }
        urls = []
        for name in ("agent", "customer"):
            (tmp_path / name).mkdir()
            urls.append(stack.enter_context(asgi_server(tmp_path / name, env)).url)
        yield urls


@pytest.mark.parametrize("layer", ["memory", "redis"])
def test_customer_and_agent_chat_live(
    browser: Any, screenshots: Path, tmp_path: Path, layer: str, request: pytest.FixtureRequest
) -> None:
    world = make_world()
    always_open(world)
    with servers(layer, request, tmp_path) as (agent_base, customer_base):
        agent: Page = browser.new_page(viewport={"width": 1280, "height": 860})
        sign_in(agent, agent_base, world.agent_eu)
        agent.goto(f"{agent_base}/desk/")

        # The customer's browser runs on Los Angeles time; her profile says Tokyo.
        world.alice.user.time_zone = "Asia/Tokyo"  # type: ignore[union-attr]
        world.alice.user.save(update_fields=["time_zone"])  # type: ignore[union-attr]
        customer: Page = browser.new_page(
            viewport={"width": 900, "height": 800}, timezone_id="America/Los_Angeles"
        )
        sign_in(customer, customer_base, world.alice.user)  # type: ignore[arg-type]  # alice signs in
        customer.goto(f"{customer_base}/chat/")
        customer.locator("#id_severity").select_option("major")
        customer.locator("#id_text").fill("The kiosk screen is frozen")
        customer.get_by_role("button", name="Start the chat").click()
        expect(customer.locator(".chat-state")).to_have_text("Waiting for an agent…")
        expect(customer.locator(".chat-line")).to_have_count(1)
        # Its time is told in her time zone and on the 24-hour clock, as every other time on
        # her pages (the line is on the page as it opens, and comes again by the WebSocket).
        stamp = customer.locator(".chat-line time").first
        sent = datetime.fromisoformat(str(stamp.get_attribute("datetime")))
        assert stamp.text_content() == sent.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%H:%M")

        # The queue shows the waiting chat without a reload.
        banner = agent.locator(".chat-alert")
        expect(banner).to_contain_text("1 chat waiting for an agent", timeout=15_000)
        agent.screenshot(path=screenshots / "chat-queue-alert.png", full_page=True)
        banner.get_by_role("link").click()
        expect(agent.locator(".chat-line")).to_have_count(1)
        agent.get_by_role("button", name="Accept").click()
        expect(customer.locator(".chat-state")).to_contain_text("In conversation with")

        customer.locator("#chat-text").press_sequentially("still there", delay=20)
        expect(agent.locator(".chat-typing")).to_have_text("typing…")
        customer.locator("#chat-text").press("Enter")
        expect(agent.locator(".chat-line", has_text="still there")).to_have_count(1)

        hostile = '<img src=x onerror="document.title=1">'
        agent.locator("#chat-text").fill(hostile)
        agent.locator("#chat-text").press("Enter")
        line = customer.locator(".chat-line", has_text="onerror")
        expect(line).to_have_count(1)
        assert line.locator("p").text_content() == hostile
        assert customer.locator(".chat-lines img").count() == 0

        # The customer's connection drops; the agent goes on; nothing is lost or repeated.
        customer.evaluate("window.pacteChatDrop()")
        for text in ("Restarting the display service.", "Done: is it back?"):
            agent.locator("#chat-text").fill(text)
            agent.locator("#chat-text").press("Enter")
        expect(customer.locator(".chat-line", has_text="Done: is it back?")).to_have_count(1)
        expect(customer.locator(".chat-line")).to_have_count(5)
        ids = customer.locator(".chat-line").evaluate_all(
            "lines => lines.map(l => l.getAttribute('data-id'))"
        )
        assert len(set(ids)) == 5
        customer.locator("#chat-text").fill("Yes, thank you!")
        customer.locator("#chat-text").press("Enter")
        expect(agent.locator(".chat-line", has_text="Yes, thank you!")).to_have_count(1)
        customer.screenshot(path=screenshots / "chat-customer.png", full_page=True)
        agent.screenshot(path=screenshots / "chat-agent.png", full_page=True)

        agent.get_by_role("button", name="End the chat").click()
        expect(customer.locator(".chat-state")).to_contain_text("The chat has ended")
        expect(customer.locator("#chat-text")).to_be_disabled()

    session = ChatSession.objects.get()
    assert session.state == ChatSession.State.ENDED and session.agent == world.agent_eu
    bodies = list(Message.objects.filter(ticket=session.ticket).values_list("body", flat=True))
    assert bodies == [
        "The kiosk screen is frozen",
        "still there",
        hostile,
        "Restarting the display service.",
        "Done: is it back?",
        "Yes, thank you!",
    ]
