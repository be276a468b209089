"""The chat WebSocket with Channels' communicator: a conversation between a customer and an
agent, reconnects that lose and repeat nothing, limits, and who may connect. Every test runs
twice: on the in-memory channel layer and on the Redis layer production uses (a real
redis-server: REDIS_URL in CI, else a private one)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from asgiref.sync import async_to_sync
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from tests.conftest import redis_channel_layers
from tests.factories import World
from tickets import services as ticket_services
from tickets.channels.chat import services
from tickets.channels.chat.routing import websocket_urlpatterns
from tickets.models import ChatSession, Message, OutboundMail, Status, User

pytestmark = pytest.mark.django_db(transaction=True)
BERLIN = ZoneInfo("Europe/Berlin")
OPEN = datetime(2026, 6, 8, 10, 0, tzinfo=BERLIN)  # a Monday morning: the europe desk is open
ROUTER = URLRouter(websocket_urlpatterns)


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    async_to_sync(scenario)()


async def connect(user: User | None, reference: str, query: str = "") -> WebsocketCommunicator:
    path = f"/ws/chat/{reference}/" + (f"?{query}" if query else "")
    communicator = WebsocketCommunicator(ROUTER, path)
    communicator.scope["user"] = user
    communicator.scope["url_route"] = {"kwargs": {"reference": reference}}
    return communicator


async def receive_until(communicator: WebsocketCommunicator, kind: str) -> dict[str, Any]:
    while True:
        event = await communicator.receive_json_from(timeout=2)
        if event["type"] == kind:
            return event


async def receive_state(communicator: WebsocketCommunicator, state: str) -> dict[str, Any]:
    while True:
        event = await receive_until(communicator, "state")
        if event["state"] == state:
            return event


@pytest.fixture(autouse=True, params=["memory", "redis"])
def channel_layer(request: pytest.FixtureRequest, settings: Any) -> str:
    """The layer the consumers publish and listen on (Channels rebuilds it when the setting
    changes)."""
    if request.param == "redis":
        settings.CHANNEL_LAYERS = redis_channel_layers(request.getfixturevalue("redis_url"))
    else:
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    return str(request.param)


def test_the_layer_is_the_one_named(channel_layer: str) -> None:
    from channels.layers import InMemoryChannelLayer, get_channel_layer
    from channels_redis.core import RedisChannelLayer

    expected = RedisChannelLayer if channel_layer == "redis" else InMemoryChannelLayer
    assert type(get_channel_layer()) is expected


@pytest.fixture
def chat(world: World) -> ChatSession:
    with time_machine.travel(OPEN, tick=False):
        return services.chat_start(
            contact=world.alice,
            actor=world.alice.user,
            text="The kiosk is frozen",
            severity="major",
        )


def test_a_live_conversation(world: World, chat: ChatSession) -> None:
    ref = chat.ticket.reference
    assert chat.state == ChatSession.State.WAITING and chat.ticket.channel == "chat"

    async def scenario() -> None:
        customer = await connect(world.alice.user, ref)
        assert (await customer.connect())[0]
        assert (await customer.receive_json_from())["state"] == "waiting"
        first = await customer.receive_json_from()
        assert first["type"] == "message" and first["text"] == "The kiosk is frozen"
        agent = await connect(world.agent_eu, ref)
        assert (await agent.connect())[0]
        await receive_until(agent, "message")
        await agent.send_json_to({"type": "typing"})
        assert await customer.receive_json_from() == {"type": "typing", "from": "agent"}
        await agent.send_json_to(
            {"type": "message", "text": "<b>Hello</b>, checking.", "key": "a1"}
        )
        line = await receive_until(customer, "message")
        assert line["text"] == "<b>Hello</b>, checking." and line["from"] == "agent"
        state = await receive_until(customer, "state")
        assert state["state"] == "active" and state["agent"]
        echo = await receive_until(agent, "message")  # the sender hears its line, with its id
        assert echo["id"] == line["id"] and echo["key"] == "a1"
        await customer.send_json_to({"type": "message", "text": "Thanks!", "key": "c1"})
        assert (await receive_until(agent, "message"))["text"] == "Thanks!"
        await customer.send_json_to({"type": "end"})
        await receive_state(agent, "ended")
        await customer.disconnect()
        await agent.disconnect()

    run(scenario)
    chat.refresh_from_db()
    ticket = chat.ticket
    ticket.refresh_from_db()
    assert chat.state == ChatSession.State.ENDED and chat.agent == world.agent_eu
    # The transcript is the ticket's messages; the agent's first line acknowledged it.
    bodies = list(Message.objects.filter(ticket=ticket).values_list("body", flat=True))
    assert bodies == ["The kiosk is frozen", "<b>Hello</b>, checking.", "Thanks!"]
    assert ticket.status == Status.ACKNOWLEDGED and ticket.assignee == world.agent_eu
    # Chat lines are not mailed one by one: the opening mail (the reference and promises),
    # then the transcript once the chat ended.
    assert list(OutboundMail.objects.filter(ticket=ticket).values_list("kind", flat=True)) == [
        "opened",
        "transcript",
    ]


def test_a_reconnect_loses_and_repeats_nothing(world: World, chat: ChatSession) -> None:
    ref = chat.ticket.reference

    async def scenario() -> None:
        customer = await connect(world.alice.user, ref)
        await customer.connect()
        last = await receive_until(customer, "message")
        await customer.disconnect()  # the connection drops …
        agent = await connect(world.agent_eu, ref)
        await agent.connect()
        for text in ("one", "two"):
            await agent.send_json_to({"type": "message", "text": text, "key": text})
        # Without waiting for the agent's lines to be stored: the history and the live lines
        # may overlap, and each line still arrives once.
        # … the customer comes back after the last id it saw and gets the two lines, once.
        again = await connect(world.alice.user, ref, f"after={last['id']}")
        await again.connect()
        await receive_until(again, "state")
        missed = [await receive_until(again, "message"), await receive_until(again, "message")]
        assert [m["text"] for m in missed] == ["one", "two"]
        while not await again.receive_nothing(timeout=0.3):
            assert (await again.receive_json_from())["type"] == "state"
        # A line sent before the drop and sent again with its key is stored once.
        await again.send_json_to({"type": "message", "text": "still frozen", "key": "k9"})
        stored = await receive_until(again, "message")
        await again.send_json_to({"type": "message", "text": "still frozen", "key": "k9"})
        repeat = await receive_until(again, "message")
        assert repeat["id"] == stored["id"]
        await again.send_json_to({"type": "resume", "after": stored["id"] - 1})
        assert (await receive_until(again, "message"))["id"] == stored["id"]
        await again.disconnect()
        await agent.disconnect()

    run(scenario)
    assert Message.objects.filter(ticket=chat.ticket, body="still frozen").count() == 1


def test_limits_on_size_rate_and_input(world: World, chat: ChatSession) -> None:
    ref = chat.ticket.reference

    async def scenario() -> None:
        customer = await connect(world.alice.user, ref)
        await customer.connect()
        await receive_until(customer, "message")
        await customer.send_json_to({"type": "message", "text": "x" * 4001})
        assert (await receive_until(customer, "error"))["code"] == "refused"
        await customer.send_json_to({"type": "message", "text": "   "})
        assert (await receive_until(customer, "error"))["code"] == "refused"
        await customer.send_json_to({"type": "message", "text": 42})
        assert (await receive_until(customer, "error"))["code"] == "bad_request"
        await customer.send_json_to(["not", "an", "object"])
        assert (await receive_until(customer, "error"))["code"] == "bad_request"
        await customer.disconnect()
        # Every attempt counts towards the rate limit: a fresh connection for this part.
        customer = await connect(world.alice.user, ref)
        await customer.connect()
        await receive_until(customer, "message")
        for i in range(settings.PACTE_CHAT_RATE_MESSAGES):
            await customer.send_json_to({"type": "message", "text": f"line {i}", "key": f"r{i}"})
            await receive_until(customer, "message")
        await customer.send_json_to({"type": "message", "text": "one too many"})
        assert (await receive_until(customer, "error"))["code"] == "rate_limited"
        await customer.send_json_to({"type": "accept"})  # customers cannot accept
        assert (await receive_until(customer, "error"))["code"] == "refused"
        await customer.disconnect()

    run(scenario)
    assert not Message.objects.filter(body__in=["one too many", "x" * 4001]).exists()


def test_only_the_contact_and_the_desk_connect(world: World, chat: ChatSession) -> None:
    ref = chat.ticket.reference

    async def scenario() -> None:
        for user in (world.bob.user, world.agent_fr, None):
            stranger = await connect(user, ref)
            connected, code = await stranger.connect()
            assert not connected and code == 4404, user
        unknown = await connect(world.alice.user, "PAC-999999")
        assert not (await unknown.connect())[0]

    run(scenario)


def test_the_full_application_needs_a_session_and_an_allowed_origin(
    world: World, chat: ChatSession
) -> None:
    from config.asgi import application

    client = Client()
    client.force_login(world.alice.user)  # type: ignore[arg-type]
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    path = f"/ws/chat/{chat.ticket.reference}/"

    async def scenario() -> None:
        good = WebsocketCommunicator(
            application, path, headers=[(b"origin", b"http://testserver"), (b"cookie", cookie)]
        )
        assert (await good.connect())[0]
        await good.disconnect()
        foreign = WebsocketCommunicator(
            application, path, headers=[(b"origin", b"https://evil.example"), (b"cookie", cookie)]
        )
        assert not (await foreign.connect())[0]
        anonymous = WebsocketCommunicator(
            application, path, headers=[(b"origin", b"http://testserver")]
        )
        assert not (await anonymous.connect())[0]

    run(scenario)


def test_outside_support_hours_the_message_becomes_a_ticket(world: World) -> None:
    saturday = datetime(2026, 6, 6, 10, 0, tzinfo=BERLIN)
    with time_machine.travel(saturday, tick=False):
        session = services.chat_start(
            contact=world.alice, actor=world.alice.user, text="Weekend outage", severity="blocking"
        )
    assert session.state == ChatSession.State.ENDED
    assert session.ticket.channel == "chat" and session.ticket.clocks.count() == 2
    assert Message.objects.get(ticket=session.ticket).body == "Weekend outage"


def test_the_history_shows_each_reader_what_tickets_access_lets_them_see(
    world: World, chat: ChatSession
) -> None:
    ref = chat.ticket.reference
    with time_machine.travel(OPEN, tick=False):
        ticket_services.ticket_receive_mail(
            ticket=chat.ticket,
            contact=None,
            body="A stranger's mail in the thread",
            mail=ticket_services.MailContent(sender="eve@unknown.test"),
            received_at=OPEN,
            outside=True,
        )
        ticket_services.ticket_reply(
            ticket=chat.ticket, author=world.agent_eu, body="A note for staff", internal=True
        )

    async def history(user: User) -> list[tuple[str, str]]:
        communicator = await connect(user, ref)
        await communicator.connect()
        lines = []
        while not await communicator.receive_nothing(timeout=0.3):
            event = await communicator.receive_json_from()
            if event["type"] == "message":
                lines.append((event["from"], event["text"]))
        await communicator.disconnect()
        return lines

    async def scenario() -> None:
        assert await history(world.alice.user) == [("customer", "The kiosk is frozen")]
        assert await history(world.agent_eu) == [
            ("customer", "The kiosk is frozen"),
            ("outside", "A stranger's mail in the thread"),
        ]

    run(scenario)


def test_staff_chat_from_a_session_that_passed_its_second_factor(
    world: World, chat: ChatSession
) -> None:
    from config.asgi import application

    path = f"/ws/chat/{chat.ticket.reference}/"
    confirmed = Client()
    confirmed.force_login(world.agent_eu)  # a session that passed the second factor
    password_only = Client()
    password_only.force_login(world.agent_eu)
    session = password_only.session
    session.pop("account_authentication_methods")
    session.save()

    def cookie(client: Client) -> list[tuple[bytes, bytes]]:
        value = f"sessionid={client.cookies['sessionid'].value}".encode()
        return [(b"origin", b"http://testserver"), (b"cookie", value)]

    async def scenario() -> None:
        good = WebsocketCommunicator(application, path, headers=cookie(confirmed))
        assert (await good.connect())[0]
        await good.disconnect()
        refused = WebsocketCommunicator(application, path, headers=cookie(password_only))
        assert not (await refused.connect())[0]

    run(scenario)
