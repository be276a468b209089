"""Who else is on a ticket: agents on its page see, live, the colleagues viewing it or writing
a reply on it (over the channel layer: Redis in production, so across every web process).

Client → server (JSON): {"type": "state", "state": "viewing" | "typing"}, sent on a change
and every HEARTBEAT seconds. Server → client: {"type": "presence", "people": [{"id", "name",
"state"}]}, the others on the ticket (the user's own tabs left out), writing ones first.

Nothing is stored: each connection announces itself to the ticket's group, the others answer
it directly, and a connection that stops beating for STALE seconds (a process gone) is
forgotten.
"""

from __future__ import annotations

import time
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.http import Http404

from tickets import access
from tickets.accounts.second_factor import may_reach_staff_pages
from tickets.models import User

STATES = ("viewing", "typing")
HEARTBEAT = 20  # seconds, the client's
STALE = 3 * HEARTBEAT


def group_name(ticket_id: int) -> str:
    return f"presence.{ticket_id}"


class TicketPresenceConsumer(AsyncJsonWebsocketConsumer):
    user: User
    me: dict[str, Any]

    async def connect(self) -> None:
        reference = self.scope["url_route"]["kwargs"]["reference"]
        found = await self._find(self.scope.get("user"), reference)
        if found is None:
            await self.close(code=4404)
            return
        self.user, ticket_id = found
        self.me = {"id": self.user.pk, "name": self.user.get_full_name() or self.user.username}
        self.state = "viewing"
        self.peers: dict[str, dict[str, Any]] = {}  # channel name -> person, state, seen at
        self.group = group_name(ticket_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self._announce("presence.hello")
        await self._push()

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self._announce("presence.bye")
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        state = content.get("state") if isinstance(content, dict) else None
        if state not in STATES:
            await self.send_json({"type": "error", "code": "bad_request", "detail": "Bad state."})
            return
        self.state = state
        await self._announce("presence.state")
        await self._push()  # its own beat forgets the peers gone silent

    # --- group events ---------------------------------------------------------------------

    async def presence_hello(self, event: dict[str, Any]) -> None:
        if event["from"] == self.channel_name:
            return
        self._remember(event)
        await self.channel_layer.send(event["from"], self._event("presence.state"))
        await self._push()

    async def presence_state(self, event: dict[str, Any]) -> None:
        if event["from"] != self.channel_name:
            self._remember(event)
            await self._push()

    async def presence_bye(self, event: dict[str, Any]) -> None:
        if self.peers.pop(event["from"], None) is not None:
            await self._push()

    # --- helpers ----------------------------------------------------------------------------

    def _event(self, kind: str) -> dict[str, Any]:
        return {"type": kind, "from": self.channel_name, "person": self.me, "state": self.state}

    async def _announce(self, kind: str) -> None:
        await self.channel_layer.group_send(self.group, self._event(kind))

    def _remember(self, event: dict[str, Any]) -> None:
        self.peers[event["from"]] = {
            **event["person"],
            "state": event["state"] if event["state"] in STATES else "viewing",
            "seen": time.monotonic(),
        }

    async def _push(self) -> None:
        """The others on the ticket, one entry per person (writing wins over viewing)."""
        now = time.monotonic()
        self.peers = {k: p for k, p in self.peers.items() if now - p["seen"] < STALE}
        people: dict[int, dict[str, Any]] = {}
        for peer in self.peers.values():
            if peer["id"] == self.me["id"]:
                continue
            known = people.get(peer["id"])
            if known is None or peer["state"] == "typing":
                people[peer["id"]] = {k: peer[k] for k in ("id", "name", "state")}
        ordered = sorted(people.values(), key=lambda p: (p["state"] != "typing", p["name"]))
        await self.send_json({"type": "presence", "people": ordered})

    @database_sync_to_async
    def _find(self, user: Any, reference: str) -> tuple[User, int] | None:
        """Staff who may work the ticket, from a session past its second factor (as the chat
        decides: tickets.channels.chat.consumers)."""
        if not isinstance(user, User) or not user.is_authenticated:
            return None
        session = self.scope.get("session")
        if session is not None and not may_reach_staff_pages(session, user):
            return None
        try:
            ticket = access.ticket_or_404(user, reference)
        except Http404:
            return None
        return (user, ticket.pk) if access.can_work(user, ticket) else None
