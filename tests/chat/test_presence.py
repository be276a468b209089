"""Collision detection (issue 23, point 2): agents on a ticket's page see who else views it or
writes a reply on it, live, across processes (the Redis channel layer production uses, and the
in-memory one); a reply sent after someone else wrote is held once, with the news shown."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from asgiref.sync import async_to_sync
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.sessions.backends.db import SessionStore

from tests.accounts.second_factor import pass_second_factor
from tests.conftest import redis_channel_layers
from tests.factories import World, client_for, open_ticket
from tickets import services
from tickets.channels.chat.routing import websocket_urlpatterns
from tickets.models import Message, User

ROUTER = URLRouter(websocket_urlpatterns)


@pytest.fixture(autouse=True)
def _a_wednesday() -> Iterator[None]:
    """A working Wednesday morning in June, whatever day the tests run."""
    with time_machine.travel(datetime(2026, 6, 17, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))):
        yield


@pytest.fixture(params=["memory", "redis"])
def layer(request: pytest.FixtureRequest, settings: Any) -> str:
    if request.param == "redis":
        settings.CHANNEL_LAYERS = redis_channel_layers(request.getfixturevalue("redis_url"))
    else:
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    return str(request.param)


def _socket(user: User, reference: str, session: Any = None) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(ROUTER, f"/ws/tickets/{reference}/presence/")
    communicator.scope["user"] = user
    if session is not None:
        communicator.scope["session"] = session
    return communicator


async def _people(communicator: WebsocketCommunicator, count: int) -> list[dict[str, Any]]:
    """The next presence list of ``count`` people (earlier ones are passed over)."""
    while True:
        event = await communicator.receive_json_from(timeout=3)
        if event["type"] == "presence" and len(event["people"]) == count:
            return list(event["people"])


@pytest.mark.django_db(transaction=True)
def test_agents_see_each_other_view_and_write(world: World, layer: str) -> None:
    ticket = open_ticket(world.alice)
    world.manager.first_name, world.manager.last_name = "Maria", "Lopez"
    world.manager.save()

    async def scenario() -> None:
        anna = _socket(world.agent_eu, ticket.reference)
        maria = _socket(world.manager, ticket.reference)
        assert (await anna.connect())[0] and (await maria.connect())[0]
        assert await _people(anna, 0) == []
        seen_by_anna = await _people(anna, 1)
        assert seen_by_anna == [{"id": world.manager.pk, "name": "Maria Lopez", "state": "viewing"}]
        assert (await _people(maria, 1))[0]["id"] == world.agent_eu.pk
        await maria.send_json_to({"type": "state", "state": "typing"})
        while (await _people(anna, 1))[0]["state"] != "typing":
            pass
        await maria.send_json_to({"type": "state", "state": "shouting"})
        while (refused := await maria.receive_json_from(timeout=3))["type"] != "error":
            pass
        assert refused["code"] == "bad_request"
        await maria.disconnect()
        assert await _people(anna, 0) == []
        await anna.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_who_may_not_watch_is_refused(world: World) -> None:
    ticket = open_ticket(world.alice)

    async def scenario() -> None:
        for user, session in [
            (world.alice.user, None),  # a customer
            (world.agent_fr, None),  # another desk's agent
            (world.agent_eu, SessionStore()),  # a session short of its second factor
        ]:
            refused = _socket(user, ticket.reference, session)
            connected, code = await refused.connect()
            assert not connected and code == 4404, user

    async_to_sync(scenario)()


@pytest.mark.django_db
def test_a_reply_after_someone_else_wrote_is_held_once(world: World) -> None:
    ticket = open_ticket(world.alice)
    anna = client_for(world.agent_eu)
    pass_second_factor(anna, world.agent_eu)
    page = anna.get(f"/tickets/{ticket.reference}/").content.decode()
    seen = str(Message.objects.filter(ticket=ticket).latest("pk").pk)
    assert f'name="seen" value="{seen}"' in page
    newer = services.ticket_reply(ticket=ticket, author=world.manager, body="I called them.")
    held = anna.post(
        f"/tickets/{ticket.reference}/reply/",
        {"body": "We are looking into it.", "seen": seen, "then": "waiting_on_customer"},
    )
    html = held.content.decode()
    assert held.status_code == 409
    assert "A new message arrived while you were writing" in html
    assert f'class="msg agent newer" id="m{newer.pk}"' in html
    assert "We are looking into it.</textarea>" in html and f'value="{newer.pk}"' in html
    assert not Message.objects.filter(body="We are looking into it.").exists()
    sent = anna.post(
        f"/tickets/{ticket.reference}/reply/",
        {"body": "We are looking into it.", "seen": str(newer.pk)},
    )
    assert sent.status_code == 302
    assert Message.objects.filter(body="We are looking into it.").count() == 1
    # The agent's own note from another tab holds nothing.
    services.ticket_reply(ticket=ticket, author=world.agent_eu, body="Note", internal=True)
    again = anna.post(
        f"/tickets/{ticket.reference}/reply/", {"body": "Second", "seen": str(newer.pk)}
    )
    assert again.status_code == 302
